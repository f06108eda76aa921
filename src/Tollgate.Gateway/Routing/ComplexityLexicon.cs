namespace Tollgate.Gateway.Routing;

/// <summary>
/// One lexical feature of <see cref="ComplexityClassifier"/>: a group of cue terms in English, Chinese, German and
/// Spanish. Its value is the number of different terms of the group found in the prompt's instruction part, capped
/// at <see cref="Cap"/>; it adds <see cref="Weight"/> per term to the logit (docs/complexity.md lists every group).
/// </summary>
/// <param name="Name">The name docs/complexity.md uses.</param>
/// <param name="Weight">Logit weight per matched term; positive pushes towards High.</param>
/// <param name="Cap">Matched terms counted at most.</param>
/// <param name="Terms">
/// Lowercase cue terms. A Latin-script term matches only at the start of a word (<c>prove</c> does not match
/// <c>improve</c>) and, as a stem, any ending (<c>optimi</c> matches <c>optimize</c>, <c>optimise</c>, <c>optimiza</c>);
/// a trailing <c>$</c> also requires the end of a word (<c>hi$</c> does not match <c>history</c>), a leading <c>^</c>
/// the start of a line (<c>^define</c>: the prompt opens with the verb), a leading <c>~</c> that it counts only in a
/// prompt without code (greetings: <c>hi</c> is also a variable name). CJK terms match anywhere. At one position only
/// the longest matching term of a group counts (<c>optimiza</c> and <c>optimi</c> are one match, not two).
/// </param>
internal sealed record ComplexityCue(string Name, double Weight, int Cap, string[] Terms);

/// <summary>The cue groups of <see cref="ComplexityClassifier"/>, with their weights. Tuned on the tuning set only.</summary>
internal static class ComplexityLexicon
{
    /// <summary>Proofs, derivations and justified answers: the clearest sign of multi-step formal reasoning.</summary>
    public static readonly ComplexityCue Proof = new("proof", 2.6, 2,
    [
        "prove$", "proves$", "proved$", "proving$", "proven$", "proof$", "proofs$", "derive", "derivation", "show that", "demonstrate that", "formally", "rigorous", "induction", "argue",
        "by contradiction", "verify that", "justifi", "counterexample", "invariant", "if and only if", "iff$",
        "证明", "推导", "证实", "严格", "归纳", "反证", "论证", "反例", "当且仅当", "不变量", "说明理由",
        "beweis", "zeige, dass", "zeige dass", "zeigen sie", "herleit", "leite", "widerspruchsbeweis", "induktion", "argumentier", "gegenbeispiel", "genau dann", "invariante",
        "begründ", "weise nach", "nachweis", "folgere",
        "demuestra", "demuestre", "demostra", "demuéstra", "deriva$", "derivar", "deduce", "deduzca", "formalmente", "riguros", "contraejemplo", "si y solo si", "inducción", "argumenta",
        "prueba que", "pruebe que", "muestra que", "muestre que",
    ]);

    /// <summary>Design and architecture: open-ended building with trade-offs, and optimization goals.</summary>
    public static readonly ComplexityCue Design = new("design", 1.8, 2,
    [
        "design", "architect", "downtime", "optimi", "scalab", "schema for", "system that", "migration plan", "refactor",
        "as few as possible", "as small as possible", "as low as possible", "zero downtime", "zero-downtime",
        "设计", "架构", "优化", "可扩展", "重构", "不停机", "不停服", "迁移方案", "尽可能少", "尽量少", "尽可能小",
        "entwirf", "entwerfe", "architektur", "ausfallzeit", "optimier", "skalier", "refaktor", "migrationsplan", "möglichst wenig", "möglichst gering", "so wenig wie möglich",
        "diseña", "diseñe", "arquitectura", "sin detener", "escalab", "refactoriza", "tiempo de inactividad", "plan de migración", "lo menor posible", "lo menos posible", "lo mínimo posible",
    ]);

    /// <summary>Careful analysis: comparisons of alternatives, trade-offs, critique, evaluation.</summary>
    public static readonly ComplexityCue Analysis = new("analysis", 1.2, 2,
    [
        "analy", "trade-off", "tradeoff", "trade off", "compare", "comparison", "pros and cons", "evalu", "critique",
        "assess", "implications", "which is better", "which one is better", "versus", "vs$", "vs.", "root cause", "which approach", "approaches$", "when would you choose",
        "分析", "权衡", "^比较", "比较一下", "进行比较", "相比", "利弊", "优缺点", "评估", "对比", "根本原因", "取舍", "折中", "哪种方案", "各种方案", "哪个更",
        "analys", "vergleich", "abwäg", "vor- und nachteile", "bewerte", "was spricht für", "spricht dagegen", "ursache",
        "kompromiss", "zielkonflikt", "ansätze", "welcher ansatz", "was ist besser", "welche ist besser", "welches ist besser",
        "analiza", "analice", "análisis", "compara", "ventajas y desventajas", "ventajas e inconvenientes", "pros y contras", "evalú", "causa raíz",
        "sopesa", "enfoques", "qué enfoque", "compromiso entre", "cuál es mejor",
    ]);

    /// <summary>Debugging and systems: concurrency, memory, performance faults.</summary>
    public static readonly ComplexityCue Systems = new("systems", 1.8, 2,
    [
        "debug", "race condition", "deadlock", "memory leak", "leak$", "leaks$", "segfault", "segmentation fault", "thread-safe", "thread safe",
        "lock-free", "concurren", "throughput", "latency", "bottleneck", "goroutine",
        "cache invalidation", "intermittent", "heisenbug", "vulnerab", "thread$",
        "threads$", "thread-dump", "lock$", "locks$", "locking", "out of memory", "memory usage", "bloom", "livelock", "starvation",
        "mutex", "semaphore", "atomic", "memory model", "cache coherence", "page fault", "virtual memory", "garbage collect",
        "调试", "死锁", "竞态", "竞争条件", "内存泄漏", "并发", "线程安全", "吞吐", "延迟", "瓶颈", "偶发", "线程", "锁", "内存", "泄漏", "互斥", "信号量", "原子操作", "垃圾回收",
        "nebenläufig", "speicherleck", "threadsicher", "durchsatz", "latenz", "engpass", "sporadisch", "speicher",
        "wettlauf", "verklemmung", "fehlersuche", "parallelisier", "semaphor", "atomar", "speichermodell",
        "depura", "condición de carrera", "interbloqueo", "fuga de memoria", "concurrencia",
        "rendimiento", "cuello de botella", "intermitente", "hilo$", "hilos$", "sin memoria", "memoria", "bloqueo mutuo", "semáforo", "atómic", "recolector de basura",
    ]);

    /// <summary>Distributed systems and protocols: commit, consensus, replication, consistency, delivery guarantees.</summary>
    public static readonly ComplexityCue Distributed = new("distributed", 1.8, 2,
    [
        "distributed", "two-phase commit", "2pc$", "three-phase", "paxos", "raft$", "consensus", "quorum", "leader election", "split-brain", "split brain",
        "vector clock", "lamport", "crdt", "lineariz", "eventual consistency", "consistency", "exactly-once", "at-least-once", "at-most-once",
        "idempot", "replica", "sharding", "partition", "rebalanc", "failover", "byzantine", "clock skew", "gossip", "high availability",
        "isolation", "serializab", "read committed", "repeatable read", "fault-toleran", "fault toleran", "transaction",
        "tcp$", "congestion control", "handshake", "protocol",
        "分布式", "两阶段提交", "二阶段提交", "共识", "选主", "脑裂", "副本", "一致性", "幂等", "高可用", "分片", "隔离", "可重复读", "容错", "事务", "拥塞", "握手", "协议",
        "verteilt", "zwei-phasen", "konsens", "konsistenz", "replikat", "replikation", "hochverfügbar", "fehlertoleran", "transaktion", "isolationsstufe", "staukontrolle", "überlastkontrolle", "protokoll",
        "distribuid", "dos fases", "consenso", "consistencia", "réplica", "replicación", "partición", "alta disponibilidad", "tolerancia a fallos", "transacci",
        "nivel de aislamiento", "elección de líder", "control de congestión", "protocolo",
    ]);

    /// <summary>Security design and threat modelling: attacks, authentication, secrets, web security.</summary>
    public static readonly ComplexityCue Security = new("security", 1.4, 2,
    [
        "threat model", "securing", "secure the", "protect against", "attack", "xss$", "csrf$", "injection", "jwt$", "oauth", "authenticat", "authoriz", "encrypt", "exploit",
        "privilege", "side-channel", "side channel", "man-in-the-middle", "replay", "brute-force", "brute force", "httponly", "samesite", "cors$", "csp$", "tls$",
        "攻击", "防御", "注入", "鉴权", "认证", "授权", "加密", "威胁", "漏洞", "越权", "跨站",
        "sicherheitstechnisch", "absicher", "angriff", "angreifer", "bedrohung", "authentifizier", "autorisier", "verschlüssel", "schwachstelle", "injektion",
        "ataque", "proteger contra", "atacante", "amenaza", "autentica", "autoriza", "cifrad", "vulnerab", "inyección",
    ]);

    /// <summary>Algorithms and complexity: non-trivial data structures, asymptotic bounds.</summary>
    public static readonly ComplexityCue Algorithms = new("algorithms", 1.6, 2,
    [
        "o(n", "o(log", "o(1)", "t(n)", "complexity", "algorithm", "dynamic programming", "np-hard", "np-complete", "asymptotic",
        "amortized", "red-black", "segment tree", "b-tree", "trie$", "tries$", "bloom filter", "lru cache", "shortest path", "graph$", "graphs$",
        "heuristic", "recursi", "recurrence", "consecutive", "np-", "approximation", "backtracking", "parser", "compiler", "interpreter", "scheduler", "rate limiter",
        "cycle$", "cycles$", "topological", "lsm$", "overfitting", "regulari", "backprop", "loss function", "bias-variance",
        "复杂度", "算法", "递推", "连续", "近似", "解释器", "np难", "动态规划", "最短路径", "递归", "回溯", "红黑树", "编译器", "解析器", "调度",
        "有向图", "无向图", "依赖图", "拓扑", "循环依赖", "b树", "过拟合", "正则化", "反向传播", "损失函数",
        "komplexität", "laufzeit", "dynamische programmierung", "kürzeste", "rekursi", "rekurrenz", "graphen", "aufeinanderfolgend", "näherung", "np-schwer",
        "zyklus", "zyklen", "überanpassung", "regularisier", "verlustfunktion",
        "complejidad", "algoritmo", "programación dinámica", "camino más corto", "grafo", "recurrencia", "consecutiv", "aproximación",
        "intérprete", "np-difícil", "compilador", "ciclos$", "un ciclo", "sobreajuste", "regulariza", "función de pérdida", "retropropagación",
    ]);

    /// <summary>Mathematics beyond arithmetic.</summary>
    public static readonly ComplexityCue Mathematics = new("mathematics", 1.4, 3,
    [
        "integral", "derivative", "eigen", "matri", "probability", "expected value", "expectation", "variance", "converge",
        "infinitely many", "prime$", "primes$", "primality", "theorem", "lemma", "series", "limit", "differential equation", "modulo", "irrational",
        "polynomial", "inequality", "expected number", "statisti", "significan", "combinatori", "how many ways", "bayes", "gradient", "vector space", "topolog",
        "integer solutions", "real numbers", "function f", "f(x)", "minimi", "maximi", "system of equations", "divisible", "gcd", "conservation of",
        "积分", "导数", "微分", "特征值", "矩阵", "概率", "期望", "方差", "收敛", "无穷多", "素数", "质数", "定理", "级数",
        "极限", "不等式", "多项式", "组合", "多少种", "整数解", "显著", "统计", "最大值", "最小值", "方程组", "整除", "数列", "守恒",
        "ableitung", "eigenwert", "wahrscheinlichkeit", "erwartungswert", "varianz", "konvergi", "unendlich viele",
        "primzahl", "satz von", "reihe$", "grenzwert", "differentialgleichung", "ungleichung", "polynom", "kombinatori",
        "auf wie viele", "ganzzahlig", "im mittel", "erwartete anzahl", "signifikan", "reelle zahlen", "funktion f", "minimier", "maximier", "gleichungssystem", "teilbar", "erhaltung",
        "derivada", "autovalor", "matriz", "probabilidad", "valor esperado", "esperanza", "varianza",
        "infinitos", "número primo", "números primos", "teorema", "límite", "ecuación diferencial", "desigualdad",
        "polinomio", "combinatoria", "número esperado", "significativ", "estadístic", "de cuántas maneras", "de cuántas formas", "soluciones enteras", "números reales",
        "función f", "minimiza", "maximiza", "sistema de ecuaciones", "divisible", "sucesión", "conservación de",
    ]);

    /// <summary>Puzzles, riddles and logic games: hard reasoning that often uses no technical word.</summary>
    public static readonly ComplexityCue Puzzle = new("puzzle", 1.8, 2,
    [
        "puzzle", "riddle", "brain teaser", "logic", "paradox", "winning strategy", "take turns", "alternately", "weighing", "balance scale",
        "liar", "truth-teller", "knights and knaves", "prisoners", "find out which", "figure out which", "determine which", "only once", "minimum number of", "fewest",
        "谜题", "逻辑", "悖论", "智力题", "必胜", "轮流", "天平", "说谎", "说真话", "囚犯", "如何判断", "怎样判断", "只能", "最少需要", "最少要",
        "rätsel", "logik", "gewinnstrategie", "abwechselnd", "waage", "wägung", "lügner", "heraus, welche", "herausfinden", "finde heraus", "findest du heraus", "nur einmal", "minimale anzahl", "wie oft muss",
        "acertijo", "adivinanza", "lógica", "paradoja", "estrategia ganadora", "por turnos", "alternativamente", "balanza", "mentiroso", "averigua", "solo una vez", "una sola vez", "número mínimo", "mínimo número",
    ]);

    /// <summary>Multi-step work: step-by-step reasoning, plans, strategies, shown working.</summary>
    public static readonly ComplexityCue MultiStep = new("multi-step", 0.9, 2,
    [
        "step by step", "step-by-step", "plan$", "strategy", "roadmap", "walk me through", "reason", "think through",
        "edge case", "corner case", "what would happen if", "explain why", "estimate", "show your work", "show the working", "show your reasoning",
        "一步一步", "逐步", "步骤", "计划", "策略", "推理", "边界情况", "估算", "解释为什么", "写出过程", "给出过程", "计算过程", "解题过程",
        "schritt für schritt", "schrittweise", "strategie", "randfälle", "erkläre, warum", "schätze", "rechenweg", "lösungsweg",
        "paso a paso", "estrategia", "razona", "casos límite", "explica por qué", "estima$", "estimar", "estimación", "estime$", "muestra el desarrollo",
        "muestra los pasos", "propón un método",
    ]);

    /// <summary>Explicit constraints and requirements on the answer.</summary>
    public static readonly ComplexityCue Constraints = new("constraints", 0.5, 3,
    [
        "must", "without using", "at most", "at least", "ensure", "guarantee", "constraint", "requirement", "in place",
        "handle", "under load", "millions of", "while keeping", "worst case", "worst-case", "without",
        "必须", "不能使用", "不使用", "至多", "至少", "保证", "确保", "约束", "要求", "最坏", "百万", "千万", "上亿",
        "muss", "müssen", "ohne", "höchstens", "mindestens", "garantier", "sicherstell", "anforderung", "schlimmsten",
        "millionen",
        "debe", "sin usar", "como máximo", "al menos", "garantiza", "asegura", "restricci", "requisito", "peor caso",
        "millones",
    ]);

    /// <summary>Why-questions: usually asking for causal explanation.</summary>
    public static readonly ComplexityCue Why = new("why", 0.5, 1,
    [
        "why", "how come", "为什么", "为何", "warum", "wieso", "weshalb", "por qué", "porqué",
    ]);

    /// <summary>Light task verbs (write code, solve): such tasks can be easy or hard; only with other cues do they tip High.</summary>
    public static readonly ComplexityCue Task = new("task", 0.5, 1,
    [
        "implement", "write a program", "write code", "function that", "class that", "solve",
        "实现", "编写", "写一个函数", "写一个程序", "求解",
        "implementier", "schreibe eine funktion", "schreibe ein programm", "funktion, die", "löse",
        "implementa", "escribe una función", "escribe un programa", "función que", "resuelve",
    ]);

    /// <summary>Transforming given text: translate, summarize, fix typos, rewrite, format. Small models do these well.</summary>
    public static readonly ComplexityCue Transform = new("transform", -2.4, 2,
    [
        "translate", "translation", "summari", "summary", "tl;dr", "tldr", "typo", "spelling", "grammar", "proofread",
        "rewrite", "rephrase", "paraphrase", "reword", "polite", "more formal", "less formal", "friendlier", "shorten",
        "make it shorter", "make this shorter", "format", "bullet", "as a list", "into a list", "convert", "capitalize", "capitalise", "capitalization", "capitalisation",
        "sort alphabetically", "alphabetical", "one sentence", "title for", "headline", "extract", "fix the wording", "clean up", "tidy", "punctuation", "keywords", "make it sound",
        "turn this into", "comment", "rename", "list of", "action items", "in two sentences", "in a few sentences",
        "翻译", "译成", "翻成", "总结", "概括", "摘要", "错别字", "拼写", "语法", "润色", "改写", "重写", "礼貌", "格式",
        "列表", "缩短", "一句话", "标题", "提取", "校对", "标点", "关键词", "语气", "整理成", "待办", "注释", "重命名", "两句话", "清单", "大小写",
        "übersetz", "zusammenfass", "fasse", "tippfehler", "rechtschreib", "grammatik", "umformulier",
        "formuliere", "höflich", "formell", "formatier", "aufzählung", "als liste", "kürze", "in einem satz",
        "überschrift", "titel für", "extrahier", "alphabetisch", "zeichensetzung", "schlüsselwörter", "liste der", "kommentar", "umbenenn", "worum geht es", "in zwei sätzen", "in wenigen sätzen",
        "umschreib", "großschreib",
        "traduc", "tradúc", "resum", "errata", "ortografía", "ortográfico", "gramática", "reescrib", "reformula",
        "parafrasea", "cortés", "más formal", "amable", "formato", "viñetas", "en una lista", "acorta", "en una frase",
        "titular", "título para", "extrae", "orden alfabético", "puntuación", "palabras clave", "convierte", "lista de", "comentario", "renombra", "cambia los nombres", "en dos frases", "en pocas frases",
        "mayúscula",
    ]);

    /// <summary>
    /// Lookups, definitions and chit-chat: one fact or a friendly reply. Greetings (marked <c>~</c>) do not count in a
    /// prompt that contains code, where <c>hi</c> is more likely a variable than a greeting.
    /// </summary>
    public static readonly ComplexityCue Lookup = new("lookup", -2.0, 2,
    [
        "capital of", "who wrote", "who is", "who was", "when was", "when did", "what year", "how many people",
        "how tall", "how far", "^define", "definition of", "meaning of", "mean?", "stand for", "^where is", "synonym", "antonym", "~hello",
        "~hi$", "~hey$", "thanks", "thank you", "good morning", "joke", "poem", "haiku", "recipe", "fun fact",
        "recommend a", "recommend some", "can you recommend", "suggest a name", "name for", "what time", "how do you say", "tell me about", "is it true",
        "首都", "是谁", "哪一年", "什么时候", "什么意思", "的意思", "定义", "同义词", "反义词", "~你好", "谢谢", "早上好",
        "笑话", "诗", "菜谱", "推荐一", "推荐几", "给我推荐", "起个名字", "怎么说", "介绍一下", "在哪里",
        "hauptstadt", "wer hat das", "wer hat die", "wer hat den", "wer schrieb", "wer erfand", "wer ist", "wer war", "wann wurde", "wann war", "in welchem jahr", "definier",
        "bedeutet", "bedeutung", "synonym", "~hallo", "danke", "guten morgen", "witz", "gedicht", "rezept", "empfiehl",
        "namen für", "wie sagt man", "erzähl mir", "wo liegt", "wo ist",
        "capital de", "quién escribió", "quién es", "quién fue", "¿cuándo fue", "¿cuándo se", "¿cuándo nació", "¿cuándo murió", "en qué año", "^define", "definición",
        "significa", "significado", "sinónimo", "antónimo", "~hola", "gracias", "buenos días", "chiste", "poema", "receta",
        "recomienda", "nombre para", "cómo se dice", "háblame de", "cuéntame", "dónde está",
    ]);

    /// <summary>Small, well-known code tasks and explicit modesty ("simple", "quick").</summary>
    public static readonly ComplexityCue Simple = new("simple", -1.0, 2,
    [
        "hello world", "reverse a string", "simple", "quick$", "basic", "short", "brief", "briefly", "in one line",
        "one-liner", "regex", "for loop", "fizzbuzz", "^what is",
        "简单", "简短", "简要", "快速", "基本",
        "einfach", "kurz", "schnell", "^was ist",
        "sencill", "breve", "rápid", "básic", "^qué es", "¿qué es",
    ]);

    /// <summary>Every cue group, in the order of the feature vector.</summary>
    public static readonly ComplexityCue[] All =
        [Proof, Design, Analysis, Systems, Distributed, Security, Algorithms, Mathematics, Puzzle, MultiStep, Constraints, Why, Task, Transform, Lookup, Simple];
}
