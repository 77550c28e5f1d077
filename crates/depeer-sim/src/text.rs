//! Word lists for names, domains, subjects and bodies. Small and fixed: the
//! seed picks among them, so a different seed gives different names.

/// Syllables for AS, organisation and domain names.
pub(crate) const NAME_PARTS: [&str; 40] = [
    "net", "tel", "link", "wave", "star", "data", "host", "web", "fiber", "sky", "nova", "tera",
    "city", "metro", "uni", "inter", "global", "east", "west", "north", "south", "alpha", "beta",
    "core", "digi", "info", "mega", "giga", "planet", "bright", "blue", "red", "green", "silver",
    "gold", "rapid", "first", "prime", "zone", "line",
];

/// Organisation suffixes.
pub(crate) const ORG_SUFFIX: [&str; 8] = [
    "Communications Inc.",
    "Telecom Ltd",
    "Networks LLC",
    "Internet Services",
    "Hosting Ltd",
    "Broadband S.A.",
    "Data Center GmbH",
    "Online Ltd",
];

/// Countries with UTC offsets in minutes, the weight of their access
/// networks as bot homes (2008-era spam sources), and a ccTLD for names.
pub(crate) const COUNTRIES: [(&str, i32, f64, &str); 28] = [
    ("US", -300, 10.0, "net"),
    ("US", -480, 6.0, "com"),
    ("TR", 120, 6.0, "net.tr"),
    ("RU", 180, 7.0, "ru"),
    ("BR", -180, 7.0, "com.br"),
    ("CN", 480, 6.0, "cn"),
    ("PL", 60, 5.0, "pl"),
    ("KR", 540, 5.0, "co.kr"),
    ("IN", 330, 4.0, "in"),
    ("DE", 60, 4.0, "de"),
    ("IT", 60, 3.0, "it"),
    ("ES", 60, 3.0, "es"),
    ("GB", 0, 3.0, "co.uk"),
    ("FR", 60, 3.0, "fr"),
    ("UA", 120, 3.0, "ua"),
    ("RO", 120, 2.0, "ro"),
    ("AR", -180, 2.0, "com.ar"),
    ("MX", -360, 2.0, "com.mx"),
    ("VN", 420, 3.0, "vn"),
    ("TH", 420, 2.0, "co.th"),
    ("CO", -300, 2.0, "com.co"),
    ("JP", 540, 1.0, "jp"),
    ("CA", -300, 1.0, "ca"),
    ("AU", 600, 1.0, "com.au"),
    ("NL", 60, 1.0, "nl"),
    ("SA", 180, 1.0, "sa"),
    ("EG", 120, 1.0, "com.eg"),
    ("IL", 120, 1.0, "co.il"),
];

/// Words for advertised domains, by topic.
pub(crate) fn domain_words(topic: &str) -> &'static [&'static str] {
    match topic {
        "pharma" => &[
            "rx",
            "pills",
            "pharmacy",
            "meds",
            "drugstore",
            "canadian",
            "health",
            "cure",
            "tabs",
            "remedy",
        ],
        "enhancement" => &[
            "male", "power", "size", "strong", "vigor", "max", "enlarge", "stamina",
        ],
        "replica" => &[
            "watch", "replica", "rolex", "luxury", "swiss", "time", "brand", "elite",
        ],
        "stocks" => &[
            "stock", "invest", "trade", "profit", "market", "alert", "penny",
        ],
        "diploma" => &["degree", "diploma", "univ", "college", "academic", "mba"],
        "casino" => &["casino", "poker", "slots", "jackpot", "bet", "royal"],
        "loans" => &["loan", "credit", "mortgage", "cash", "finance", "rate"],
        "fakeav" => &[
            "antivirus",
            "scan",
            "secure",
            "protect",
            "defender",
            "cleaner",
        ],
        "phishing" => &["secure", "login", "verify", "account", "update", "bank"],
        "ecard" => &["greeting", "card", "postcard", "happy", "funny", "ecard"],
        "dating" => &["love", "date", "single", "meet", "match", "hot"],
        "software" => &["soft", "oem", "download", "cheap", "office", "license"],
        _ => &["best", "online", "shop", "deal", "top", "now"],
    }
}

/// Top-level domains for advertised sites.
pub(crate) const SPAM_TLDS: [&str; 7] = ["com", "net", "cn", "ru", "info", "biz", "org"];

/// Subject templates by topic; `{n}` is a number, `{w}` a domain word, `{name}` a first name.
pub(crate) fn subjects(topic: &str) -> &'static [&'static str] {
    match topic {
        "pharma" => &[
            "Cheap meds online, {n}% off",
            "Your prescription is ready",
            "{name}, save on pharmacy orders",
            "Best prices on {w} tablets",
            "Canadian pharmacy - order today",
            "RE: your order #{n}",
        ],
        "enhancement" => &[
            "Be the man she wants",
            "{name}, gain {n}% more",
            "Unbelievable results in {n} days",
            "She will thank you",
        ],
        "replica" => &[
            "Luxury watches at {n}% off",
            "Replica Rolex from ${n}",
            "{name}, impress everyone with a Swiss watch",
            "Designer brands, tiny prices",
        ],
        "stocks" => &[
            "Hot stock alert: {w} up {n}%",
            "This company is about to explode",
            "Investor news: {n}% gain expected",
        ],
        "diploma" => &[
            "Get your degree in {n} weeks",
            "University diplomas, no exams",
            "{name}, MBA without study",
        ],
        "casino" => &[
            "{n} free spins waiting",
            "Your casino bonus: ${n}",
            "{name}, jackpot tonight",
        ],
        "loans" => &[
            "Approved: ${n}000 loan",
            "Lower your rate to {n}%",
            "{name}, refinance now",
        ],
        "fakeav" => &[
            "Warning: {n} viruses detected",
            "Your computer is at risk",
            "Security alert for {name}",
        ],
        "phishing" => &[
            "Verify your account",
            "Unusual sign-in activity #{n}",
            "Your account will be suspended",
        ],
        "ecard" => &[
            "{name} sent you an ecard",
            "You have a postcard from a friend",
            "Happy greetings!",
        ],
        "dating" => &[
            "{name} wants to meet you",
            "{n} singles near you",
            "Hi, I saw your profile",
        ],
        "software" => &[
            "OEM software from ${n}",
            "Office {n} - download now",
            "Cheap licenses, instant download",
        ],
        _ => &["Special offer {n}", "Hello {name}"],
    }
}

/// Body sentences by topic (ASCII).
pub(crate) fn sentences(topic: &str) -> &'static [&'static str] {
    match topic {
        "pharma" | "enhancement" => &[
            "Top quality medications at discount prices.",
            "No prescription required, discreet worldwide shipping.",
            "Order now and get free pills with every order.",
            "Licensed pharmacists, secure checkout.",
        ],
        "replica" => &[
            "Swiss made replicas indistinguishable from the original.",
            "Every watch comes with a box and papers.",
            "Free shipping on orders over $200.",
        ],
        "stocks" => &[
            "Our analysts expect a strong rally this week.",
            "Get in before the news breaks.",
            "Volume is surging; watch it Monday morning.",
        ],
        "fakeav" | "phishing" => &[
            "Click the link below to secure your account.",
            "Failure to verify within 24 hours will result in suspension.",
            "Download the latest protection now.",
        ],
        _ => &[
            "This offer is valid for a limited time only.",
            "Click here to find out more.",
            "Thousands of satisfied customers cannot be wrong.",
        ],
    }
}

/// First names for addresses and subjects.
pub(crate) const FIRST_NAMES: [&str; 24] = [
    "john", "mary", "james", "linda", "robert", "susan", "michael", "karen", "david", "lisa",
    "peter", "anna", "mark", "julia", "paul", "laura", "alex", "nina", "tom", "eva", "sam", "olga",
    "ivan", "maria",
];

/// Last names.
pub(crate) const LAST_NAMES: [&str; 16] = [
    "smith", "jones", "brown", "miller", "davis", "wilson", "moore", "taylor", "anderson",
    "thomas", "jackson", "white", "harris", "martin", "garcia", "clark",
];

/// Russian phrases in KOI8-R.
pub(crate) const RU_KOI8: [&[u8]; 5] = [
    b"\xe4\xc5\xdb\xc5\xd7\xd9\xc5\x20\xcc\xc5\xcb\xc1\xd2\xd3\xd4\xd7\xc1\x20\xc2\xc5\xda\x20\xd2\xc5\xc3\xc5\xd0\xd4\xc1",
    b"\xf3\xcb\xc9\xc4\xcb\xc9\x20\xc4\xcf\x20\x38\x30\x25\x20\xd4\xcf\xcc\xd8\xcb\xcf\x20\xd3\xc5\xc7\xcf\xc4\xce\xd1",
    b"\xf5\xd7\xc5\xcc\xc9\xde\xc5\xce\xc9\xc5\x20\xcd\xd5\xd6\xd3\xcb\xcf\xca\x20\xd3\xc9\xcc\xd9",
    b"\xf2\xc5\xd0\xcc\xc9\xcb\xc9\x20\xdb\xd7\xc5\xca\xc3\xc1\xd2\xd3\xcb\xc9\xc8\x20\xde\xc1\xd3\xcf\xd7",
    b"\xfa\xc1\xd2\xc1\xc2\xcf\xd4\xcf\xcb\x20\xd7\x20\xc9\xce\xd4\xc5\xd2\xce\xc5\xd4\xc5",
];

/// The same phrases in windows-1251.
pub(crate) const RU_CP1251: [&[u8]; 5] = [
    b"\xc4\xe5\xf8\xe5\xe2\xfb\xe5\x20\xeb\xe5\xea\xe0\xf0\xf1\xf2\xe2\xe0\x20\xe1\xe5\xe7\x20\xf0\xe5\xf6\xe5\xef\xf2\xe0",
    b"\xd1\xea\xe8\xe4\xea\xe8\x20\xe4\xee\x20\x38\x30\x25\x20\xf2\xee\xeb\xfc\xea\xee\x20\xf1\xe5\xe3\xee\xe4\xed\xff",
    b"\xd3\xe2\xe5\xeb\xe8\xf7\xe5\xed\xe8\xe5\x20\xec\xf3\xe6\xf1\xea\xee\xe9\x20\xf1\xe8\xeb\xfb",
    b"\xd0\xe5\xef\xeb\xe8\xea\xe8\x20\xf8\xe2\xe5\xe9\xf6\xe0\xf0\xf1\xea\xe8\xf5\x20\xf7\xe0\xf1\xee\xe2",
    b"\xc7\xe0\xf0\xe0\xe1\xee\xf2\xee\xea\x20\xe2\x20\xe8\xed\xf2\xe5\xf0\xed\xe5\xf2\xe5",
];

/// Latin-1 phrases (ISO-8859-1).
pub(crate) const LATIN1: [&[u8]; 3] = [
    b"G\xfcnstige Medikamente ohne Rezept",
    b"Montres de luxe \xe0 prix r\xe9duit",
    b"Oferta especial: \xa180% de descuento!",
];

/// UTF-8 phrases.
pub(crate) const UTF8: [&str; 3] = [
    "Günstige Medikamente – jetzt bestellen",
    "Скидки до 80% только сегодня",
    "限时优惠 – 名牌手表",
];

/// `john` -> `John`.
pub(crate) fn title_case(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}
