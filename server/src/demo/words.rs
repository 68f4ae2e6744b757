//! The demo's bilingual vocabulary: people's names, startup names and the texts founders,
//! mentors and administrators write, each in English and in Chinese.
use rand::rngs::StdRng;
use rand::Rng;

/// A text in English and in Chinese.
pub type Bi = (&'static str, &'static str);

/// One of the two texts: Chinese for a `zh-CN` writer, English otherwise.
pub fn lang(text: Bi, zh: bool) -> &'static str {
    if zh {
        text.1
    } else {
        text.0
    }
}

pub fn pick<'a, T>(rng: &mut StdRng, items: &'a [T]) -> &'a T {
    &items[rng.random_range(0..items.len())]
}

/// A person as the demo creates them.
pub struct Person {
    /// As shown in the app: 张伟, Wei Zhang or Emily Carter.
    pub name: String,
    /// ASCII, for the email address and the cluster login: `wei.zhang`.
    pub stem: String,
    pub zh: bool,
}

/// (pinyin, hanzi) family names, the most common first.
const FAMILY: &[(&str, &str)] = &[
    ("Wang", "王"),
    ("Li", "李"),
    ("Zhang", "张"),
    ("Liu", "刘"),
    ("Chen", "陈"),
    ("Yang", "杨"),
    ("Zhao", "赵"),
    ("Huang", "黄"),
    ("Zhou", "周"),
    ("Wu", "吴"),
    ("Xu", "徐"),
    ("Sun", "孙"),
    ("Hu", "胡"),
    ("Zhu", "朱"),
    ("Gao", "高"),
    ("Lin", "林"),
    ("He", "何"),
    ("Guo", "郭"),
    ("Ma", "马"),
    ("Luo", "罗"),
    ("Liang", "梁"),
    ("Song", "宋"),
    ("Zheng", "郑"),
    ("Xie", "谢"),
    ("Han", "韩"),
    ("Tang", "唐"),
    ("Feng", "冯"),
    ("Deng", "邓"),
    ("Cao", "曹"),
    ("Peng", "彭"),
    ("Zeng", "曾"),
    ("Xiao", "肖"),
    ("Tian", "田"),
    ("Dong", "董"),
    ("Pan", "潘"),
    ("Yuan", "袁"),
    ("Jiang", "蒋"),
    ("Cai", "蔡"),
    ("Du", "杜"),
    ("Ye", "叶"),
];

/// (pinyin, hanzi) given names.
const GIVEN: &[(&str, &str)] = &[
    ("Wei", "伟"),
    ("Fang", "芳"),
    ("Na", "娜"),
    ("Min", "敏"),
    ("Jing", "静"),
    ("Lei", "磊"),
    ("Yang", "洋"),
    ("Yong", "勇"),
    ("Jie", "杰"),
    ("Tao", "涛"),
    ("Ming", "明"),
    ("Chao", "超"),
    ("Hao", "浩"),
    ("Xin", "欣"),
    ("Yuxuan", "宇轩"),
    ("Zihan", "子涵"),
    ("Haoran", "浩然"),
    ("Yiming", "一鸣"),
    ("Xinyi", "欣怡"),
    ("Siyu", "思雨"),
    ("Ruoxi", "若曦"),
    ("Zhiyuan", "志远"),
    ("Jiahui", "佳慧"),
    ("Tianyu", "天宇"),
    ("Mengqi", "梦琪"),
    ("Junjie", "俊杰"),
    ("Shuang", "爽"),
    ("Kai", "凯"),
    ("Yue", "悦"),
    ("Lingfeng", "凌峰"),
    ("Xiaotong", "晓彤"),
    ("Wenjing", "文静"),
    ("Zhengyang", "正阳"),
    ("Qian", "倩"),
    ("Bo", "博"),
    ("Yifan", "一帆"),
    ("Shiyu", "诗雨"),
    ("Chenxi", "晨曦"),
    ("Zeyu", "泽宇"),
    ("Anqi", "安琪"),
];

const WESTERN_GIVEN: &[&str] = &[
    "Emily", "James", "Olivia", "Daniel", "Sophia", "Michael", "Hannah", "Lucas", "Priya", "Arjun",
    "Yuki", "Sven", "Amara", "Mateo", "Chloe", "Noah", "Isabel", "Ethan", "Leila", "Tomas",
    "Ingrid", "Rafael", "Mei", "Kenji", "Aisha", "Oliver", "Clara", "Felix", "Nadia", "Samuel",
];

const WESTERN_FAMILY: &[&str] = &[
    "Carter",
    "Novak",
    "Rossi",
    "Kim",
    "Nguyen",
    "Patel",
    "Schmidt",
    "Tanaka",
    "Dubois",
    "Andersen",
    "Okafor",
    "Garcia",
    "Cohen",
    "Brennan",
    "Moreau",
    "Silva",
    "Larsen",
    "Walker",
    "Fischer",
    "Ivanova",
    "Haddad",
    "Park",
    "Costa",
    "Bauer",
    "Reyes",
    "Lindqvist",
    "Murphy",
    "Sato",
    "Kowalski",
    "Ahmed",
];

/// A plausible person of the park: mostly Chinese (named in hanzi or in pinyin), some not.
pub fn person(rng: &mut StdRng) -> Person {
    if rng.random_bool(0.72) {
        let (fp, fh) = *pick(rng, FAMILY);
        let (gp, gh) = *pick(rng, GIVEN);
        let stem = format!("{}.{}", gp.to_lowercase(), fp.to_lowercase());
        if rng.random_bool(0.7) {
            Person {
                name: format!("{fh}{gh}"),
                stem,
                zh: true,
            }
        } else {
            // Pinyin, given name first, as on a business card abroad; some read English.
            Person {
                name: format!("{gp} {fp}"),
                stem,
                zh: rng.random_bool(0.5),
            }
        }
    } else {
        let g = *pick(rng, WESTERN_GIVEN);
        let f = *pick(rng, WESTERN_FAMILY);
        Person {
            name: format!("{g} {f}"),
            stem: format!("{}.{}", g.to_lowercase(), f.to_lowercase()),
            zh: false,
        }
    }
}

/// First syllables of Chinese brand names (hanzi, pinyin).
const BRAND_FIRST: &[(&str, &str)] = &[
    ("清", "Qing"),
    ("星", "Xing"),
    ("云", "Yun"),
    ("深", "Shen"),
    ("远", "Yuan"),
    ("明", "Ming"),
    ("启", "Qi"),
    ("天", "Tian"),
    ("海", "Hai"),
    ("灵", "Ling"),
    ("睿", "Rui"),
    ("博", "Bo"),
    ("新", "Xin"),
    ("智", "Zhi"),
    ("思", "Si"),
    ("极", "Ji"),
    ("光", "Guang"),
    ("晨", "Chen"),
    ("墨", "Mo"),
    ("澜", "Lan"),
    ("鲸", "Jing"),
    ("锐", "Rui"),
    ("知", "Zhi"),
    ("恒", "Heng"),
    ("微", "Wei"),
    ("蓝", "Lan"),
    ("观", "Guan"),
    ("九", "Jiu"),
    ("万", "Wan"),
    ("长", "Chang"),
    ("北", "Bei"),
    ("南", "Nan"),
    ("东", "Dong"),
    ("玄", "Xuan"),
    ("若", "Ruo"),
    ("衡", "Heng"),
    ("元", "Yuan"),
    ("弈", "Yi"),
    ("青", "Qing"),
    ("量", "Liang"),
];

/// Second syllables of Chinese brand names (hanzi, pinyin).
const BRAND_SECOND: &[(&str, &str)] = &[
    ("河", "he"),
    ("图", "tu"),
    ("帆", "fan"),
    ("瞳", "tong"),
    ("航", "hang"),
    ("源", "yuan"),
    ("川", "chuan"),
    ("峰", "feng"),
    ("宇", "yu"),
    ("曦", "xi"),
    ("羽", "yu"),
    ("行", "xing"),
    ("芯", "xin"),
    ("谷", "gu"),
    ("岚", "lan"),
    ("湾", "wan"),
    ("松", "song"),
    ("舟", "zhou"),
    ("桥", "qiao"),
    ("石", "shi"),
    ("言", "yan"),
    ("声", "sheng"),
    ("影", "ying"),
    ("维", "wei"),
    ("象", "xiang"),
    ("洲", "zhou"),
    ("原", "yuan"),
    ("林", "lin"),
    ("泉", "quan"),
    ("辰", "chen"),
];

const WESTERN_BRAND: &[&str] = &[
    "Northwind",
    "Lumen",
    "Cobalt",
    "Helix",
    "Atlas",
    "Vertex",
    "Quanta",
    "Polaris",
    "Aurora",
    "Nimbus",
    "Sable",
    "Kestrel",
    "Orbit",
    "Meridian",
    "Halcyon",
    "Juniper",
    "Parallax",
    "Cinder",
    "Tundra",
    "Vireo",
    "Lattice",
    "Beacon",
    "Ember",
    "Fathom",
    "Granite",
    "Harbor",
    "Iris",
    "Keystone",
    "Mosaic",
    "Sextant",
];

/// What a startup does, by sector.
pub struct Sector {
    pub key: wire::startups::Sector,
    /// Words that end its name: Vision / 视觉.
    pub suffixes: &'static [Bi],
    /// What it builds.
    pub focuses: &'static [Bi],
    /// The problem its customers have.
    pub pains: &'static [Bi],
    /// How it trains, and on what.
    pub models: &'static [Bi],
    /// Its weight among applicants.
    pub weight: u32,
}

pub const SECTORS: &[Sector] = &[
    Sector {
        key: wire::startups::Sector::FoundationModels,
        suffixes: &[("AI", "智能"), ("Intelligence", "智算"), ("Labs", "智能实验室"), ("Models", "大模型")],
        focuses: &[
            ("a 13B bilingual foundation model for enterprise documents", "面向企业文档的 130 亿参数中英双语基座模型"),
            ("small open-weight models that run on a single GPU", "可在单张 GPU 上运行的开源小模型"),
            ("long-context retrieval-augmented models for legal work", "面向法律行业的长上下文检索增强大模型"),
        ],
        pains: &[
            ("general-purpose models hallucinate on domain documents and cost too much to serve", "通用模型在专业文档上幻觉严重，推理成本过高"),
            ("customers cannot send confidential data to public APIs", "客户无法把敏感数据发送到公有云 API"),
        ],
        models: &[
            ("Pre-training on 400B tokens of licensed Chinese and English text, then SFT and DPO.", "在 4000 亿 token 授权中英文语料上预训练，再进行 SFT 与 DPO 对齐。"),
            ("Continued pre-training of Qwen2.5-14B on 60B domain tokens; evaluation on C-Eval and LegalBench.", "基于 Qwen2.5-14B 在 600 亿领域 token 上继续预训练，以 C-Eval 与 LegalBench 评测。"),
        ],
        weight: 14,
    },
    Sector {
        key: wire::startups::Sector::ComputerVision,
        suffixes: &[("Vision", "视觉"), ("Sight", "视界"), ("Perception", "感知"), ("Optics", "光学")],
        focuses: &[
            ("visual quality inspection for electronics assembly lines", "面向电子产线的视觉质检"),
            ("retail shelf analytics from ordinary store cameras", "基于普通门店摄像头的货架分析"),
            ("open-vocabulary detection for drones", "面向无人机的开放词汇目标检测"),
        ],
        pains: &[
            ("manual inspection misses 3–5% of defects and does not scale to night shifts", "人工质检漏检率 3–5%，且难以覆盖夜班"),
            ("every new product needs weeks of labelling before a model works", "每个新品都需要数周标注才能上线模型"),
        ],
        models: &[
            ("A ViT-L backbone fine-tuned on 1.2M labelled images from 14 factories.", "ViT-L 主干网络，在来自 14 家工厂的 120 万张标注图像上微调。"),
            ("Grounding-DINO distilled into a 40M-parameter edge model.", "将 Grounding-DINO 蒸馏为 4000 万参数的端侧模型。"),
        ],
        weight: 12,
    },
    Sector {
        key: wire::startups::Sector::Language,
        suffixes: &[("Language", "语言"), ("Agents", "智能体"), ("Semantics", "语义"), ("Dialogue", "对话")],
        focuses: &[
            ("LLM agents that resolve customer-service tickets end to end", "端到端处理客服工单的大模型智能体"),
            ("an agent that drafts and checks government procurement documents", "起草并校验政府采购文件的智能体"),
            ("cross-border e-commerce copywriting in twelve languages", "覆盖十二种语言的跨境电商文案生成"),
        ],
        pains: &[
            ("support teams spend 70% of their time on repetitive tickets", "客服团队 70% 的时间花在重复性工单上"),
            ("tool-using agents fail silently and nobody can audit what they did", "调用工具的智能体会静默失败，且无法审计其操作"),
        ],
        models: &[
            ("Tool-use fine-tuning of an open 32B model on 300k logged agent trajectories.", "在 30 万条智能体轨迹上对开源 320 亿参数模型做工具调用微调。"),
            ("RLHF with a reward model trained on 80k ranked answers from our pilot customers.", "用试点客户提供的 8 万条排序答案训练奖励模型，再做 RLHF。"),
        ],
        weight: 16,
    },
    Sector {
        key: wire::startups::Sector::Speech,
        suffixes: &[("Voice", "声学"), ("Speech", "语音"), ("Audio", "听觉"), ("Acoustics", "声科")],
        focuses: &[
            ("speech recognition for Cantonese, Wu and Minnan dialects", "面向粤语、吴语与闽南语的语音识别"),
            ("real-time meeting transcription and minutes", "实时会议转写与纪要"),
            ("expressive text-to-speech for audiobooks", "面向有声书的情感语音合成"),
        ],
        pains: &[
            ("commercial ASR fails on dialects spoken by 200 million people", "商用语音识别在两亿人使用的方言上表现很差"),
            ("call centres cannot search or summarise their recordings", "呼叫中心无法检索和总结通话录音"),
        ],
        models: &[
            ("A Conformer-Transducer trained on 40k hours of transcribed dialect speech.", "在 4 万小时方言转写语音上训练的 Conformer-Transducer 模型。"),
            ("Whisper-large fine-tuned with 8k hours of in-domain audio, then quantised to INT8.", "用 8000 小时领域音频微调 Whisper-large，再量化为 INT8。"),
        ],
        weight: 8,
    },
    Sector {
        key: wire::startups::Sector::Robotics,
        suffixes: &[("Robotics", "机器人"), ("Dynamics", "动力"), ("Automation", "自动化"), ("Machines", "智造")],
        focuses: &[
            ("embodied manipulation for warehouse picking", "面向仓储拣选的具身操作"),
            ("a humanoid hand that learns assembly from video", "从视频学习装配的仿人灵巧手"),
            ("autonomous inspection robots for substations", "变电站自主巡检机器人"),
        ],
        pains: &[
            ("each new SKU needs a robotics engineer to reprogram the cell", "每上一个新 SKU 都需要机器人工程师重新编程"),
            ("sim-to-real transfer still fails on deformable objects", "仿真到真实的迁移在柔性物体上仍然失败"),
        ],
        models: &[
            ("A vision-language-action policy pre-trained on 1M simulated episodes in Isaac Sim.", "在 Isaac Sim 中 100 万条仿真轨迹上预训练视觉-语言-动作策略。"),
            ("Diffusion policies trained on 6k teleoperated demonstrations.", "在 6000 条遥操作示教数据上训练扩散策略。"),
        ],
        weight: 9,
    },
    Sector {
        key: wire::startups::Sector::AutonomousDriving,
        suffixes: &[("Drive", "智驾"), ("Mobility", "出行"), ("Autonomy", "自动驾驶"), ("Motion", "智行")],
        focuses: &[
            ("end-to-end driving models for robotaxis in dense cities", "面向城市 Robotaxi 的端到端驾驶模型"),
            ("autonomous trucks for port logistics", "港口物流自动驾驶卡车"),
            ("occupancy networks for low-cost camera-only cars", "面向纯视觉低成本车型的占用网络"),
        ],
        pains: &[
            ("rule-based planners break on unprotected left turns and construction zones", "基于规则的规划器在无保护左转与施工路段频繁失效"),
            ("lidar suites cost more than the vehicle they sit on", "激光雷达套件比车辆本身还贵"),
        ],
        models: &[
            ("A BEV transformer trained on 2,000 hours of multi-camera driving logs.", "在 2000 小时多摄像头驾驶数据上训练的 BEV Transformer。"),
            ("World-model pre-training on 10M video clips, then imitation learning.", "在 1000 万段视频上做世界模型预训练，再进行模仿学习。"),
        ],
        weight: 7,
    },
    Sector {
        key: wire::startups::Sector::Healthcare,
        suffixes: &[("Health", "健康"), ("Medical", "医疗"), ("Bio", "生物"), ("MedTech", "医学影像")],
        focuses: &[
            ("medical imaging triage for chest CT", "胸部 CT 影像智能分诊"),
            ("pathology slide analysis for county hospitals", "面向县级医院的病理切片分析"),
            ("protein structure models for antibody design", "用于抗体设计的蛋白质结构模型"),
        ],
        pains: &[
            ("radiologists in county hospitals read over 200 scans a day", "县级医院放射科医生每天要读两百多份片子"),
            ("wet-lab screening of antibody candidates takes months", "抗体候选物的湿实验筛选需要数月"),
        ],
        models: &[
            ("A 3D U-Net and a report generator trained on 180k de-identified CT studies from 9 hospitals.", "在 9 家医院 18 万例脱敏 CT 上训练 3D U-Net 与报告生成模型。"),
            ("A fine-tuned protein language model with structure prediction on 2M sequences.", "在 200 万条序列上微调蛋白质语言模型并进行结构预测。"),
        ],
        weight: 10,
    },
    Sector {
        key: wire::startups::Sector::Finance,
        suffixes: &[("Fintech", "金融科技"), ("Capital AI", "智投"), ("Risk", "风控"), ("Quant", "量化")],
        focuses: &[
            ("credit risk models for small manufacturers", "面向小微制造企业的信用风险模型"),
            ("an LLM research assistant for brokerage analysts", "服务券商分析师的大模型投研助手"),
        ],
        pains: &[
            ("banks lack data to lend to firms without collateral", "银行缺少数据，难以向无抵押企业放贷"),
            ("analysts spend days reading filings before writing a note", "分析师写一份报告前要花数天阅读公告"),
        ],
        models: &[
            ("Graph neural networks over 30M invoices, explained with SHAP for regulators.", "在 3000 万张发票构成的图上训练图神经网络，并用 SHAP 向监管解释。"),
            ("Domain fine-tuning on 15 years of filings and research reports.", "在 15 年公告与研报上进行领域微调。"),
        ],
        weight: 6,
    },
    Sector {
        key: wire::startups::Sector::Industry,
        suffixes: &[("Industrial AI", "工业智能"), ("Factory", "智造"), ("Inspection", "质检"), ("Energy", "能源")],
        focuses: &[
            ("predictive maintenance for wind turbines", "风电机组预测性维护"),
            ("process optimisation for chemical plants", "化工装置工艺优化"),
        ],
        pains: &[
            ("an unplanned gearbox failure costs a wind farm ¥1.5M", "一次齿轮箱非计划故障让风电场损失 150 万元"),
            ("operators tune set points by experience, wasting 4% of energy", "操作员凭经验调整设定值，浪费约 4% 的能耗"),
        ],
        models: &[
            ("Time-series transformers on 5 years of SCADA data from 1,200 turbines.", "在 1200 台机组 5 年 SCADA 数据上训练时序 Transformer。"),
            ("Physics-informed surrogate models trained against the plant's simulator.", "以装置仿真器为参照训练物理约束代理模型。"),
        ],
        weight: 8,
    },
    Sector {
        key: wire::startups::Sector::Education,
        suffixes: &[("Learning", "学习"), ("Edu", "教育"), ("Tutor", "智学"), ("Academy", "学堂")],
        focuses: &[
            ("an AI maths tutor that explains each step", "逐步讲解的 AI 数学辅导"),
            ("automatic grading of programming assignments", "编程作业自动批改"),
        ],
        pains: &[
            ("rural schools have one maths teacher for 300 pupils", "乡村学校一位数学老师要教 300 名学生"),
            ("teaching assistants spend evenings grading code by hand", "助教每晚都在手工批改代码"),
        ],
        models: &[
            ("Step-level reward models trained on 500k worked solutions.", "在 50 万道分步解答上训练步骤级奖励模型。"),
            ("A code model fine-tuned on 2M graded student submissions.", "在 200 万份已评分学生提交上微调代码模型。"),
        ],
        weight: 5,
    },
    Sector {
        key: wire::startups::Sector::Other,
        suffixes: &[("Tech", "科技"), ("Systems", "系统"), ("Data", "数据"), ("Cloud", "云")],
        focuses: &[
            ("a GPU scheduler that packs inference workloads", "提升推理负载装箱率的 GPU 调度器"),
            ("synthetic data generation for privacy-sensitive industries", "面向隐私敏感行业的合成数据生成"),
        ],
        pains: &[
            ("inference clusters idle at 30% utilisation", "推理集群利用率长期只有 30%"),
            ("real data cannot leave the customer's premises", "真实数据无法离开客户机房"),
        ],
        models: &[
            ("Reinforcement learning on traces from three production clusters.", "基于三个生产集群的调度轨迹做强化学习。"),
            ("Diffusion models trained with differential privacy.", "以差分隐私训练扩散模型。"),
        ],
        weight: 5,
    },
];

pub fn sector(rng: &mut StdRng) -> &'static Sector {
    let total: u32 = SECTORS.iter().map(|s| s.weight).sum();
    let mut n = rng.random_range(0..total);
    for s in SECTORS {
        if n < s.weight {
            return s;
        }
        n -= s.weight;
    }
    &SECTORS[0]
}

/// A startup's name, in one of the forms the park's tenants use: "Qinghe Vision 清河视觉",
/// "星河智能" or "Lumen Robotics". Returns the name and an ASCII slug for its website.
pub fn startup_name(rng: &mut StdRng, s: &Sector) -> (String, String) {
    let (en, zh) = *pick(rng, s.suffixes);
    let (h1, p1) = *pick(rng, BRAND_FIRST);
    let (h2, p2) = *pick(rng, BRAND_SECOND);
    let pinyin = format!("{p1}{p2}");
    let slug_en = en.to_lowercase().replace(' ', "-");
    match rng.random_range(0..100) {
        0..55 => (
            format!("{pinyin} {en} {h1}{h2}{zh}"),
            format!("{}-{slug_en}", pinyin.to_lowercase()),
        ),
        55..80 => (
            format!("{h1}{h2}{zh}"),
            format!("{}{}", pinyin.to_lowercase(), "-ai"),
        ),
        _ => {
            let w = *pick(rng, WESTERN_BRAND);
            (
                format!("{w} {en}"),
                format!("{}-{slug_en}", w.to_lowercase()),
            )
        }
    }
}

pub const FOUNDER_ROLES: &[Bi] = &[
    ("CEO", "首席执行官"),
    ("CTO", "首席技术官"),
    ("Chief Scientist", "首席科学家"),
    ("COO", "首席运营官"),
    ("Head of Product", "产品负责人"),
];

pub const TRACTION: &[Bi] = &[
    (
        "Two paid pilots (¥600k ARR), three letters of intent.",
        "两个付费试点（年收入 60 万元），三份合作意向书。",
    ),
    (
        "1,800 weekly active users after a closed beta; 40% retention at week 8.",
        "内测后周活 1800，第 8 周留存 40%。",
    ),
    (
        "Pre-revenue; a signed pilot with a provincial hospital group.",
        "尚无收入；已与一家省级医院集团签订试点协议。",
    ),
    (
        "Angel round of ¥5M closed; pilot with a listed manufacturer.",
        "完成 500 万元天使轮；与一家上市制造企业开展试点。",
    ),
    (
        "Open-source release with 6k GitHub stars; 12 enterprise trials.",
        "开源版本获得 6000 个 GitHub star，12 家企业试用。",
    ),
    (
        "Seed round of ¥20M; revenue ¥3M last year.",
        "完成 2000 万元种子轮；去年收入 300 万元。",
    ),
];

pub const TEAM_TEXT: &[Bi] = &[
    (
        "Founders from Tsinghua and Huawei; 6 engineers, 2 with PhDs in machine learning.",
        "创始团队来自清华大学与华为；6 名工程师，其中 2 名机器学习博士。",
    ),
    (
        "Ex-Baidu and ex-SenseTime researchers with 40 papers at CVPR/NeurIPS.",
        "前百度、商汤研究员，在 CVPR/NeurIPS 发表论文 40 余篇。",
    ),
    (
        "A clinician and two ML engineers; advisors from Peking Union Medical College Hospital.",
        "一名临床医生与两名机器学习工程师；顾问来自北京协和医院。",
    ),
    (
        "Second-time founders; previous company acquired in 2021.",
        "连续创业者，上一家公司于 2021 年被收购。",
    ),
    (
        "Team of 9 across Beijing and Shenzhen; hardware and software in house.",
        "9 人团队分布在北京和深圳，软硬件自研。",
    ),
];

pub const GPU_MODELS: &[&str] = &["NVIDIA H100 80GB", "NVIDIA A800 80GB", "Ascend 910B"];

pub const ROUND_DESCRIPTIONS: Bi = (
    "The park's incubation programme admits AI startups twice a year. Admitted teams get a desk in Turing Town, mentors, training and subsidised GPU credit on the park's cluster.",
    "园区孵化计划每年两次招募 AI 初创企业。入选团队将获得图灵小镇工位、导师辅导、人才培训以及园区集群的算力补贴。",
);

/// The rubric every demo round uses: (name, guidance, weight).
pub const RUBRIC: &[(Bi, Bi, i32)] = &[
    (
        ("Technical depth", "技术深度"),
        (
            "Is the approach novel and feasible? Is the team able to build it?",
            "方法是否新颖可行？团队是否有能力实现？",
        ),
        30,
    ),
    (
        ("Market potential", "市场潜力"),
        (
            "Size of the market, willingness to pay, evidence from customers.",
            "市场规模、付费意愿以及来自客户的证据。",
        ),
        25,
    ),
    (
        ("Team", "团队"),
        (
            "Complementary skills, commitment, track record.",
            "能力互补、投入程度与过往成绩。",
        ),
        25,
    ),
    (
        ("Compute plan", "算力规划"),
        (
            "Is the GPU request justified by a clear training and evaluation plan?",
            "GPU 需求是否有清晰的训练与评测计划支撑？",
        ),
        20,
    ),
];

pub const FEEDBACK: &[(Bi, &str)] = &[
    (
        ("Strong technical team and a clear plan for the pilot. Quantify the cost savings for customers.", "技术团队扎实，试点计划清晰。建议量化为客户节省的成本。"),
        "accept",
    ),
    (
        ("Impressive early traction. The compute request is well argued.", "早期进展亮眼，算力需求论证充分。"),
        "accept",
    ),
    (
        ("Promising idea, but the data strategy is thin. Show how you will get labelled data at scale.", "想法有前景，但数据策略薄弱。请说明如何规模化获取标注数据。"),
        "waitlist",
    ),
    (
        ("Good team; the market is crowded. Explain what you do that the incumbents cannot.", "团队不错，但赛道拥挤。请说明你们能做到而现有玩家做不到的事。"),
        "waitlist",
    ),
    (
        ("The problem is real but the solution is not yet differentiated. We encourage you to apply again.", "问题真实存在，但方案尚缺乏差异化。欢迎下一批次再次申请。"),
        "reject",
    ),
    (
        ("The GPU request is far above what the plan needs. Start with a smaller experiment.", "GPU 需求远超计划所需，建议先从小规模实验开始。"),
        "reject",
    ),
];

pub const COMMITTEE_NOTES: &[Bi] = &[
    (
        "Spoke to one of their pilot customers: very positive.",
        "与其一位试点客户交流过，评价很高。",
    ),
    (
        "Founders seemed over-committed to a second company.",
        "创始人似乎同时投入另一家公司。",
    ),
    (
        "Benchmarks in the deck are on a public test set; ask for held-out results.",
        "路演材料中的评测基于公开测试集，需要补充留出集结果。",
    ),
    ("", ""),
    ("", ""),
];

pub const CONFLICTS: &[Bi] = &[
    (
        "I advised one of the founders at my previous company.",
        "我曾在前公司指导过其中一位创始人。",
    ),
    (
        "My fund holds a stake in a direct competitor.",
        "我所在基金持有其直接竞争对手的股份。",
    ),
    (
        "One of the founders is a former PhD student of mine.",
        "其中一位创始人是我以前的博士生。",
    ),
];

pub const DECISION_MESSAGES: &[(&str, Bi)] = &[
    (
        "accepted",
        ("Welcome to the Turing Town incubator! Your residency starts in two weeks; your mentors will be in touch.", "欢迎加入图灵小镇孵化器！入驻将于两周后开始，导师会与你们联系。"),
    ),
    (
        "waitlisted",
        ("You are on the waitlist: we will come back to you if a place frees up in this round.", "你们已进入候补名单：本批次如有空位，我们会第一时间联系。"),
    ),
    (
        "rejected",
        ("Thank you for applying. The committee could not offer a place this time; the reviewers' feedback is below.", "感谢申请。本次未能入选，评审意见附后，欢迎再次申请。"),
    ),
];

pub const MILESTONES: &[(Bi, Bi)] = &[
    (
        ("Pilot with a first paying customer", "首个付费客户试点"),
        (
            "Signed contract and a pilot report.",
            "签署合同并提交试点报告。",
        ),
    ),
    (
        (
            "Model v1 on the internal benchmark",
            "模型 v1 达到内部评测指标",
        ),
        (
            "Beat the baseline by 5 points on the held-out set.",
            "在留出集上超出基线 5 个百分点。",
        ),
    ),
    (
        ("Inference cost halved", "推理成本降低一半"),
        (
            "Quantisation and batching in production.",
            "量化与批处理上线生产环境。",
        ),
    ),
    (
        ("Seed round closed", "完成种子轮融资"),
        (
            "Term sheet signed and funds received.",
            "签署投资协议并到账。",
        ),
    ),
    (
        ("Data licence agreements", "完成数据授权协议"),
        (
            "Licences for the training corpus in place.",
            "训练语料授权全部到位。",
        ),
    ),
    (
        ("Security and privacy review", "通过安全与隐私评估"),
        (
            "Third-party assessment of data handling.",
            "第三方数据处理评估。",
        ),
    ),
    (
        ("Public beta launch", "公开测试版上线"),
        (
            "Open sign-up and 1,000 active users.",
            "开放注册并达到 1000 名活跃用户。",
        ),
    ),
    (
        ("Hire a head of sales", "招聘销售负责人"),
        (
            "A senior hire to build the sales team.",
            "招聘资深人员组建销售团队。",
        ),
    ),
    (
        ("Open-source release", "开源发布"),
        (
            "Weights and evaluation code published.",
            "发布模型权重与评测代码。",
        ),
    ),
    (
        ("Second industry deployment", "第二个行业落地"),
        (
            "A deployment outside the first vertical.",
            "在首个行业之外完成落地。",
        ),
    ),
];

pub const EVIDENCE: &[Bi] = &[
    (
        "Contract and pilot report uploaded to the shared drive.",
        "合同与试点报告已上传至共享盘。",
    ),
    (
        "Benchmark results reviewed with the mentor; see the evaluation notebook.",
        "评测结果已与导师复核，详见评测 notebook。",
    ),
    (
        "Demo shown at the monthly review; metrics dashboard shared.",
        "已在月度评审中演示，并共享指标看板。",
    ),
];

pub const MISSED: &[Bi] = &[
    (
        "Customer postponed the pilot to next quarter.",
        "客户将试点推迟到下季度。",
    ),
    (
        "Training diverged twice; new plan agreed with the mentor.",
        "训练两次发散，已与导师商定新计划。",
    ),
    ("Hiring took longer than planned.", "招聘进度慢于计划。"),
];

pub const STARTUP_NOTES: &[Bi] = &[
    (
        "Met the team: inference costs are down 40% after quantisation.",
        "与团队会面：量化后推理成本下降 40%。",
    ),
    (
        "Introduced them to two hospital CIOs in the park's network.",
        "已介绍园区网络中的两位医院信息科主任给团队。",
    ),
    (
        "Burn rate is high; suggested they apply for the Haidian AI subsidy.",
        "资金消耗偏快，建议申请海淀区人工智能补贴。",
    ),
    (
        "Pitch practice for demo day went well.",
        "路演日彩排效果不错。",
    ),
    (
        "Asked for more GPU time for the next training run; see the grant.",
        "下一轮训练需要更多 GPU 时长，见算力补贴。",
    ),
];

pub const GRADUATED: &[Bi] = &[
    (
        "Completed the residency; Series A closed and the team moved to its own office.",
        "完成孵化，A 轮融资到位，团队已迁入独立办公室。",
    ),
    (
        "Graduated with three enterprise customers in production.",
        "已有三家企业客户上线，顺利毕业。",
    ),
];

pub const EXITED: &[Bi] = &[
    (
        "The founders wound the company down.",
        "创始人决定关闭公司。",
    ),
    (
        "Acquired by a listed software company.",
        "被一家上市软件公司收购。",
    ),
    (
        "Left the programme to relocate to Shenzhen.",
        "团队迁往深圳，退出孵化。",
    ),
];

pub const GRANT_REASONS: &[Bi] = &[
    ("Incubation allocation", "孵化期算力补贴"),
    (
        "Renewal for the next training phase",
        "下一阶段训练续期补贴",
    ),
    ("Domestic accelerator pilot", "国产算力适配试点"),
];

pub const TOP_UPS: &[Bi] = &[
    (
        "Top-up approved by the committee for the v2 training run",
        "评审委员会批准为 v2 训练追加",
    ),
    ("Extra hours for the customer pilot", "客户试点追加时长"),
];

pub const REDUCTIONS: &[Bi] = &[("Unused hours returned to the pool", "未使用时长退回资源池")];

pub const REVOCATIONS: &[Bi] = &[("The startup left the programme", "企业退出孵化")];

/// A training track: title, description and sessions.
pub struct Track {
    pub key: wire::cohorts::Track,
    pub title: Bi,
    pub description: Bi,
    pub topics: &'static [&'static str],
}

pub const TRACKS: &[Track] = &[
    Track {
        key: wire::cohorts::Track::AiEngineering,
        title: ("LLM Application Engineering", "大模型应用工程"),
        description: (
            "Eight weeks from prompt to production: retrieval, tools, evaluation and serving.",
            "八周从提示词到生产：检索、工具调用、评测与部署。",
        ),
        topics: &[
            "Prompting and structured output · 提示词与结构化输出",
            "Retrieval-augmented generation · 检索增强生成",
            "Tool use and agents · 工具调用与智能体",
            "Evaluating LLM apps · 大模型应用评测",
            "Fine-tuning with LoRA · LoRA 微调",
            "Serving with vLLM · 使用 vLLM 部署",
            "Guardrails and safety · 安全护栏",
            "Capstone demos · 结业项目展示",
            "Cost control in production · 生产环境成本控制",
            "Multimodal inputs · 多模态输入",
        ],
    },
    Track {
        key: wire::cohorts::Track::Mlops,
        title: ("MLOps on the Park Cluster", "园区集群 MLOps 实战"),
        description: (
            "Slurm, containers and experiment tracking on the park's GPUs.",
            "在园区 GPU 上使用 Slurm、容器与实验追踪。",
        ),
        topics: &[
            "Slurm for ML teams · 面向算法团队的 Slurm",
            "Containers and Apptainer · 容器与 Apptainer",
            "Distributed training with DeepSpeed · DeepSpeed 分布式训练",
            "Experiment tracking · 实验追踪",
            "Checkpointing and fault tolerance · 断点续训与容错",
            "Profiling GPU jobs · GPU 作业性能分析",
            "CI for models · 模型持续集成",
            "Cost and quota planning · 成本与配额规划",
        ],
    },
    Track {
        key: wire::cohorts::Track::Data,
        title: ("Data Engineering for AI", "面向 AI 的数据工程"),
        description: (
            "Collecting, cleaning, labelling and licensing training data.",
            "训练数据的采集、清洗、标注与授权。",
        ),
        topics: &[
            "Data licensing in China · 国内数据授权合规",
            "Deduplication at scale · 大规模去重",
            "Labelling workflows · 标注流程",
            "Synthetic data · 合成数据",
            "Data quality metrics · 数据质量指标",
            "Personal information protection · 个人信息保护",
            "Building evaluation sets · 构建评测集",
            "Lakehouse basics · 湖仓一体基础",
        ],
    },
    Track {
        key: wire::cohorts::Track::AiProduct,
        title: ("AI Product Management", "AI 产品经理"),
        description: (
            "Turning models into products customers pay for.",
            "把模型变成客户愿意付费的产品。",
        ),
        topics: &[
            "Finding the job to be done · 发现用户任务",
            "Designing for uncertainty · 面向不确定性的设计",
            "Pricing AI products · AI 产品定价",
            "Measuring quality with users · 与用户一起衡量质量",
            "Enterprise sales cycles · 企业销售周期",
            "Roadmaps for model upgrades · 模型升级路线图",
            "Case study workshop · 案例研讨",
        ],
    },
    Track {
        key: wire::cohorts::Track::Entrepreneurship,
        title: ("Founder Bootcamp", "创始人训练营"),
        description: (
            "Company law, fundraising, hiring and the park's support programmes.",
            "公司法务、融资、招聘与园区扶持政策。",
        ),
        topics: &[
            "Company structures and equity · 公司架构与股权",
            "Fundraising in 2025 · 2025 年融资环境",
            "Term sheets · 投资条款",
            "Hiring the first ten · 招聘最初十人",
            "Government subsidies · 政府补贴申报",
            "Pitch clinic · 路演诊断",
            "Demo day rehearsal · 路演日彩排",
        ],
    },
    Track {
        key: wire::cohorts::Track::Research,
        title: ("Reading Group: Frontier Models", "前沿模型读书会"),
        description: (
            "Researchers from the park's labs read and reproduce recent papers.",
            "园区实验室研究员共读并复现近期论文。",
        ),
        topics: &[
            "Scaling laws revisited · 重读缩放定律",
            "Mixture of experts · 混合专家模型",
            "Long context · 长上下文",
            "Reasoning and RL · 推理与强化学习",
            "Multimodal pre-training · 多模态预训练",
            "Efficient attention · 高效注意力",
            "World models · 世界模型",
            "Reproduction reports · 复现报告",
        ],
    },
];

pub const LOCATIONS: &[&str] = &[
    "Turing Town Talent Centre, Room 301 · 图灵小镇人才中心 301 室",
    "Turing Town Talent Centre, Lecture Hall B · 图灵小镇人才中心 B 报告厅",
    "Online · 线上（腾讯会议）",
    "Incubator building, 5F workshop · 孵化楼 5 层研讨室",
];

/// Organisations mentors declare as affiliations.
pub const AFFILIATIONS: &[&str] = &[
    "Tsinghua University",
    "Peking University",
    "Zhejiang University",
    "Shanghai Jiao Tong University",
    "Chinese Academy of Sciences",
    "Microsoft Research Asia",
    "Alibaba Cloud",
    "Baidu",
    "Tencent",
    "Huawei",
    "SenseTime",
    "Zhipu AI",
    "Hillhouse Capital",
    "Sequoia China",
    "Beijing Academy of Artificial Intelligence",
    "清华大学",
    "北京大学",
    "中国科学院自动化研究所",
    "百度",
    "华为",
    "北京协和医院",
];

/// Instructors from outside the park, for sessions mentors do not teach.
pub const GUEST_INSTRUCTORS: &[&str] = &[
    "Dr. Lin Hui (HPC team)",
    "周敏（园区算力中心）",
    "Anna Fischer (guest)",
    "陈律师（园区法务）",
];
