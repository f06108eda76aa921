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
/// the start of a line (<c>^define</c>: the prompt opens with the verb). CJK terms match anywhere.
/// </param>
internal sealed record ComplexityCue(string Name, double Weight, int Cap, string[] Terms);

/// <summary>The cue groups of <see cref="ComplexityClassifier"/>, with their weights. Tuned on the tuning set only.</summary>
internal static class ComplexityLexicon
{
    /// <summary>Proofs and derivations: the clearest sign of multi-step formal reasoning.</summary>
    public static readonly ComplexityCue Proof = new("proof", 2.6, 2,
    [
        "prove$", "proves$", "proved$", "proving$", "proven$", "proof", "derive", "derivation", "show that", "demonstrate that", "formally", "rigorous", "induction", "argue",
        "by contradiction", "verify that", "justify", "counterexample", "invariant", "if and only if", "iff$",
        "证明", "推导", "证实", "严格", "归纳", "反证", "论证", "反例", "当且仅当", "不变量",
        "beweis", "zeige, dass", "zeige dass", "zeigen sie", "herleit", "leite", "widerspruchsbeweis", "induktion", "argumentier", "formal$", "gegenbeispiel", "genau dann", "invariante",
        "demuestra", "demostra", "demuéstra", "deriva$", "derivar", "deduce", "formalmente", "riguros", "contraejemplo", "si y solo si", "inducción", "argumenta",
    ]);

    /// <summary>Design and architecture: open-ended building with trade-offs.</summary>
    public static readonly ComplexityCue Design = new("design", 1.8, 2,
    [
        "design", "architect", "downtime", "optimi", "scalab", "schema for", "system that", "migration plan", "refactor",
        "设计", "架构", "优化", "可扩展", "重构", "不停机",
        "entwirf", "entwerfe", "architektur", "ausfallzeit", "optimier", "skalierbar",
        "diseña", "diseñar", "arquitectura", "sin detener", "optimiza", "escalab", "refactoriza",
    ]);

    /// <summary>Careful analysis: comparisons of alternatives, trade-offs, critique, evaluation.</summary>
    public static readonly ComplexityCue Analysis = new("analysis", 1.2, 2,
    [
        "analy", "trade-off", "tradeoff", "trade off", "compare", "comparison", "pros and cons", "evaluate", "critique",
        "assess", "implications", "which is better", "versus", "vs$", "vs.", "root cause",
        "分析", "权衡", "比较", "利弊", "优缺点", "评估", "对比", "根本原因",
        "analys", "analysier", "vergleich", "abwäg", "vor- und nachteile", "bewerte", "was spricht für", "spricht dagegen", "ursache",
        "analiza", "análisis", "compara", "ventajas y desventajas", "pros y contras", "evalúa", "causa raíz",
    ]);

    /// <summary>Debugging and systems: concurrency, distribution, memory, performance faults.</summary>
    public static readonly ComplexityCue Systems = new("systems", 1.8, 2,
    [
        "debug", "race condition", "deadlock", "memory leak", "segfault", "segmentation fault", "thread-safe", "thread safe",
        "lock-free", "concurren", "distributed", "consensus", "consistency", "throughput", "latency", "bottleneck",
        "exactly-once", "idempot", "fault-toleran", "fault toleran", "cache invalidation", "intermittent", "heisenbug", "high availability", "replication", "sharding",
        "isolation", "serializable", "read committed", "repeatable read", "vulnerab", "thread$",
        "threads$", "thread-dump", "lock$", "locks$", "locking", "out of memory", "memory usage", "bloom",
        "调试", "死锁", "竞态", "竞争条件", "内存泄漏", "并发", "线程安全", "分布式", "一致性", "吞吐", "延迟", "瓶颈", "偶发", "高可用", "分片", "隔离", "可重复读", "漏洞", "线程", "锁", "内存",
        "nebenläufig", "speicherleck", "threadsicher", "verteilt", "konsistenz", "durchsatz", "latenz", "engpass", "sporadisch", "hochverfügbar", "replikation", "schwachstelle", "speicher",
        "depura", "condición de carrera", "interbloqueo", "fuga de memoria", "concurrencia", "distribuid", "consistencia",
        "rendimiento", "cuello de botella", "intermitente", "alta disponibilidad", "replicación",
        "vulnerabilidad", "hilo$", "hilos$", "sin memoria", "memoria",
    ]);

    /// <summary>Algorithms and complexity: non-trivial data structures, asymptotic bounds.</summary>
    public static readonly ComplexityCue Algorithms = new("algorithms", 1.6, 2,
    [
        "o(n", "o(log", "o(1)", "complexity", "algorithm", "dynamic programming", "np-hard", "np-complete", "asymptotic",
        "amortized", "red-black", "segment tree", "b-tree", "trie$", "tries$", "bloom filter", "lru cache", "shortest path", "graph$", "graphs$",
        "heuristic", "recursion", "recurrence", "consecutive", "np-", "approximation", "interpreter", "backtracking", "parser", "compiler", "interpreter", "scheduler", "rate limiter",
        "复杂度", "算法", "递推", "连续", "近似", "解释器", "np难", "动态规划", "最短路径", "递归", "回溯", "红黑树", "编译器", "解析器", "调度",
        "komplexität", "laufzeit", "algorithm", "dynamische programmierung", "kürzeste", "rekursi", "graphen", "aufeinanderfolgend", "näherung", "np-schwer",
        "complejidad", "algoritmo", "programación dinámica", "camino más corto", "recursi", "grafo", "recurrencia", "consecutiv", "aproximación",
        "intérprete", "np-difícil",
    ]);

    /// <summary>Mathematics beyond arithmetic.</summary>
    public static readonly ComplexityCue Mathematics = new("mathematics", 1.4, 3,
    [
        "integral", "derivative", "eigen", "matri", "probability", "expected value", "expectation", "variance", "converge",
        "infinitely many", "prime", "theorem", "lemma", "series", "limit", "differential equation", "modulo", "irrational",
        "polynomial", "inequality", "expected number", "statistical", "significan", "combinatori", "how many ways", "bayes", "gradient", "vector space", "topolog",
        "integer solutions", "real numbers", "function f", "f(x)", "minimi", "maximi",
        "积分", "导数", "微分", "特征值", "矩阵", "概率", "期望", "方差", "收敛", "无穷多", "素数", "质数", "定理", "级数",
        "极限", "不等式", "多项式", "组合", "多少种", "整数解", "显著", "统计", "最大值", "最小值",
        "ableitung", "eigenwert", "wahrscheinlichkeit", "erwartungswert", "varianz", "konvergi", "unendlich viele",
        "primzahl", "satz von", "reihe$", "grenzwert", "differentialgleichung", "ungleichung", "polynom", "kombinatori",
        "auf wie viele", "ganzzahlig", "im mittel", "erwartete anzahl", "signifikan", "statisti", "reelle zahlen", "funktion f", "minimier", "maximier",
        "derivada", "autovalor", "matriz", "probabilidad", "valor esperado", "esperanza", "varianza", "converge",
        "infinitos", "número primo", "números primos", "teorema", "límite", "ecuación diferencial", "desigualdad",
        "polinomio", "combinatoria", "número esperado", "significativ", "estadístic", "de cuántas maneras", "de cuántas formas", "soluciones enteras", "números reales",
        "función f", "minimiza", "maximiza",
    ]);

    /// <summary>Multi-step work: step-by-step reasoning, plans, strategies.</summary>
    public static readonly ComplexityCue MultiStep = new("multi-step", 0.9, 2,
    [
        "step by step", "step-by-step", "plan$", "strategy", "roadmap", "walk me through", "reason", "think through",
        "edge case", "corner case", "what would happen if", "explain why", "estimate", "puzzle", "riddle", "paradox",
        "logic",
        "一步一步", "逐步", "步骤", "计划", "策略", "推理", "边界情况", "估算", "解释为什么", "谜题", "逻辑", "悖论",
        "schritt für schritt", "schrittweise", "plan$", "strategie", "begründe", "randfälle", "erkläre, warum", "schätze", "rätsel", "logik",
        "paso a paso", "plan$", "estrategia", "razona", "casos límite", "explica por qué", "estima", "acertijo", "lógica", "paradoja",
    ]);

    /// <summary>Explicit constraints and requirements on the answer.</summary>
    public static readonly ComplexityCue Constraints = new("constraints", 0.5, 3,
    [
        "must", "without using", "at most", "at least", "ensure", "guarantee", "constraint", "requirement", "in place",
        "handle", "under load", "millions of", "while keeping", "worst case", "worst-case", "without",
        "必须", "不能使用", "不使用", "至多", "至少", "保证", "确保", "约束", "要求", "最坏", "百万",
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
        "make it shorter", "make this shorter", "format", "bullet", "as a list", "into a list", "convert", "capitaliz",
        "sort alphabetically", "alphabetical", "one sentence", "title for", "headline", "extract", "fix the wording", "clean up", "tidy", "punctuation", "keywords", "make it sound",
        "turn this into", "comment", "rename", "list of", "action items", "in two sentences", "in a few sentences",
        "翻译", "译成", "翻成", "总结", "概括", "摘要", "错别字", "拼写", "语法", "润色", "改写", "重写", "礼貌", "格式",
        "列表", "缩短", "一句话", "标题", "提取", "校对", "标点", "关键词", "语气", "整理成", "待办", "注释", "重命名", "两句话", "清单",
        "übersetz", "zusammenfass", "fasse", "tippfehler", "rechtschreib", "grammatik", "umformulier",
        "formuliere", "höflich", "formell", "formatier", "aufzählung", "als liste", "kürze", "in einem satz",
        "überschrift", "titel für", "extrahier", "alphabetisch", "zeichensetzung", "schlüsselwörter", "liste der", "kommentar", "umbenenn", "worum geht es", "in zwei sätzen", "in wenigen sätzen",
        "umschreib",
        "traduc", "resum", "errata", "ortografía", "ortográfico", "gramática", "reescrib", "reformula",
        "parafrasea", "cortés", "más formal", "amable", "formato", "viñetas", "en una lista", "acorta", "en una frase",
        "titular", "título para", "extrae", "orden alfabético", "puntuación", "palabras clave", "convierte", "lista de", "comentario", "renombra", "cambia los nombres", "en dos frases", "en pocas frases",
    ]);

    /// <summary>Lookups, definitions and chit-chat: one fact or a friendly reply.</summary>
    public static readonly ComplexityCue Lookup = new("lookup", -2.0, 2,
    [
        "capital of", "who wrote", "who is", "who was", "when was", "when did", "what year", "how many people",
        "how tall", "how far", "^define", "definition of", "meaning of", "mean?", "stand for", "^where is", "synonym", "antonym", "hello",
        "hi$", "hey$", "thanks", "thank you", "good morning", "joke", "poem", "haiku", "recipe", "fun fact",
        "recommend a", "recommend some", "can you recommend", "suggest a name", "name for", "what time", "how do you say", "tell me about", "is it true",
        "首都", "是谁", "哪一年", "什么时候", "什么意思", "的意思", "定义", "同义词", "反义词", "你好", "谢谢", "早上好",
        "笑话", "诗", "菜谱", "推荐一", "推荐几", "给我推荐", "起个名字", "怎么说", "介绍一下", "在哪里",
        "hauptstadt", "wer hat", "wer ist", "wer war", "wann wurde", "wann war", "in welchem jahr", "definier",
        "bedeutet", "bedeutung", "synonym", "hallo", "danke", "guten morgen", "witz", "gedicht", "rezept", "empfiehl",
        "namen für", "wie sagt man", "erzähl mir", "wo liegt", "wo ist",
        "capital de", "quién escribió", "quién es", "quién fue", "¿cuándo", "en qué año", "^define", "definición",
        "significa", "significado", "sinónimo", "antónimo", "hola", "gracias", "buenos días", "chiste", "poema", "receta",
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
        [Proof, Design, Analysis, Systems, Algorithms, Mathematics, MultiStep, Constraints, Why, Task, Transform, Lookup, Simple];
}
