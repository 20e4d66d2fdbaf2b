"""How each attribute value is said, in English and Chinese: the lexicon the description checker reads texts
with (and the embedded generator writes them with).

Each entry is (regex, the values it is consistent with). A phrase may fit several values ("a young girl":
child or teenager); a text expresses a label when some phrase fits it, and distorts it when some phrase
does not. Attributes are read in ATTRIBUTE_ORDER, and the phrases of each value in the order given, with
every match blanked out before the next: compound phrases ("neither fast nor slow", "语速不快不慢") are read
whole before their parts can be, and the anchored phrases of one attribute ("语速平稳") before another's
looser ones ("平稳" as a calm tone).
"""
from __future__ import annotations

ATTRIBUTE_ORDER = ("speed", "volume", "pitch", "emotion", "age", "gender")

# "at a normal pitch, volume and pace" / "以正常的音调、音量和语速": one adjective for several attributes is
# spread over each before the text is read ("正常的音调，正常的音量，正常的语速").
SHARED_ADJECTIVE = {
    "en": (r"\b(normal|moderate|medium|average|steady|natural) ((?:pitch|volume|pace|speed|tempo)"
           r"(?:(?:, and |, | and )(?:pitch|volume|pace|speed|tempo))+)\b", r", |, and | and "),
    "zh": (r"(正常|适中|中等|平稳)的((?:音调|音高|音量|语速)(?:[、和与及](?:音调|音高|音量|语速))+)", r"[、和与及]"),
}

_ADV_EN = r"(?:very |quite |rather |fairly |somewhat |slightly |a bit |a little |noticeably |relatively |really |extremely )?"
_DEG_ZH = r"(?:偏|较|很|非常|比较|略|稍|有些|有点|十分|相当|特别|极)?"


def _en(*pairs):
    return [(rf"\b(?:{pattern})\b", set(values.split())) for pattern, values in pairs]


def _zh(*pairs):
    return [(pattern, set(values.split())) for pattern, values in pairs]


LEXICON: dict[str, dict[str, list[tuple[str, set[str]]]]] = {
    "en": {
        "speed": _en(
            (r"neither (?:too )?(?:fast|quick|rapid) nor (?:too )?slow|neither (?:too )?slow nor (?:too )?(?:fast|quick)"
             r"|(?:normal|moderate|medium|average|steady|even|regular|ordinary|natural|comfortable|measured"
             r"|typical|standard|conversational|unremarkable) (?:pace|speed|rate|tempo|speaking rate|clip)"
             r"|(?:pace|speed|rate|tempo) (?:that is|is|was) (?:normal|moderate|average|steady|even|natural)"
             r"|moderately paced|evenly paced", "normal"),
            (_ADV_EN + r"(?:fast|quick|quickly|rapid|rapidly|brisk|briskly|hurried|hurriedly|swift|swiftly|speedy"
             r"|speedily|hasty|hastily|rushed|fast-paced|quick-paced|rapid-fire)", "fast"),
            (_ADV_EN + r"(?:slow|slowly|unhurried|leisurely|sluggish|sluggishly|drawn-out|plodding|slow-paced"
             r"|unhurriedly)", "slow"),
        ),
        "volume": _en(
            (r"neither (?:too )?loud nor (?:too )?(?:soft|quiet)|neither (?:too )?(?:soft|quiet) nor (?:too )?loud"
             r"|(?:normal|moderate|medium|average|ordinary|regular|comfortable|standard|even|steady|natural"
             r"|typical|conversational) (?:volume|loudness|energy|level|intensity)"
             r"|(?:volume|loudness|energy) (?:that is|is|was) (?:normal|moderate|average|steady)", "normal"),
            (_ADV_EN + r"(?:loud|loudly|booming|forceful|forcefully|powerful|powerfully|high[- ]energy|energetic"
             r"|energetically|high volume|strong voice|resounding|projecting|full[- ]voiced)"
             r"|(?:volume|energy) (?:is |was )?(?:high|raised|elevated)|high (?:volume|energy|intensity)", "high"),
            (_ADV_EN + r"(?:soft|softly|quiet|quietly|hushed|whisper|whispers|whispering|whispered|faint|faintly"
             r"|low[- ]energy|low volume|murmur|murmurs|murmuring|muted|barely audible|under (?:his|her|their|one's) breath)"
             r"|(?:volume|energy) (?:is |was )?(?:low|reduced)|low (?:volume|energy|intensity)", "low"),
        ),
        "pitch": _en(
            (r"neither (?:too )?high nor (?:too )?low|(?:normal|moderate|medium|average|ordinary|regular|natural"
             r"|standard|typical|mid-range|mid|middle|balanced|unremarkable|neutral) (?:pitch|pitched|register)"
             r"|(?:pitch|register) (?:that is|is|was) (?:normal|moderate|average|natural|medium)"
             r"|moderately pitched|(?:normal|moderate|medium|average|natural|mid)-pitched", "normal"),
            (_ADV_EN + r"(?:high[- ]pitched|higher[- ]pitched|high pitch|high register|shrill|squeaky|piercing"
             r"|high voice|high-toned|raised pitch|elevated pitch|sharp voice|thin voice|treble)"
             r"|pitch (?:is |was |that is )?" + _ADV_EN + r"(?:high|raised|elevated)", "high"),
            (_ADV_EN + r"(?:low[- ]pitched|lower[- ]pitched|low pitch|low register|deep-voiced|bass|baritone"
             r"|deep(?=[\w ,-]{0,25}\b(?:voice|tones?|register|timbre|pitch)\b))"
             r"|pitch (?:is |was |that is )?" + _ADV_EN + r"(?:low|lowered)", "low"),
        ),
        "emotion": _en(
            (r"neutral|neutrally|calm|calmly|even tone|even-toned|level tone|matter-of-fact|matter-of-factly"
             r"|composed|dispassionate|dispassionately|emotionless|unemotional|without (?:much |any )?emotion"
             r"|detached|flat tone|plain tone|impassive|impassively|placid|placidly", "neutral"),
            (r"angry|angrily|anger|furious|furiously|irritated|irritation|annoyed|annoyance|irate|indignant"
             r"|indignantly|rage|enraged|outraged|fury|cross|heated|exasperated|exasperation", "angry"),
            (r"disgusted|disgust|revulsion|repulsed|revolted|distaste|loathing|disdain|contempt|contemptuous"
             r"|contemptuously|grossed out", "disgusted"),
            (r"fearful|fearfully|fear|afraid|scared|frightened|terrified|anxious|anxiously|nervous|nervously"
             r"|apprehensive|apprehensively|panicked|alarmed|uneasy|trembling voice|fright", "fearful"),
            (r"happy|happily|cheerful|cheerfully|joyful|joyfully|joyous|delighted|glad|gladly|upbeat|elated"
             r"|in (?:high|good|great) spirits"
             r"|merry|merrily|gleeful|gleefully|contented|pleased|jubilant|good-humored|joy|happiness|overjoyed|thrilled"
             r"|ecstatic|cheery|amused|amusement", "happy"),
            (r"sad|sadly|sadness|sorrow|sorrowful|sorrowfully|melancholy|melancholic|gloomy|gloomily|mournful"
             r"|mournfully|downcast|dejected|unhappy|grief|grieving|heartbroken|despondent|forlorn|wistful", "sad"),
            # excitement is joy or surprise, never calm: it fits either, and distorts a neutral label
            (r"excited|excitedly|excitement", "happy surprised"),
            (r"surprised|surprise|astonished|astonishment|amazed|amazement|startled|stunned|taken aback"
             r"|in disbelief|incredulous|incredulously|shocked", "surprised"),
        ),
        "age": _en(
            (r"young adult|young (?:woman|man|lady|gentleman|female|male|speaker|person|adult)s?"
             r"|in (?:his|her|their) (?:twenties|late twenties|mid-twenties|20s)"
             r"|twenty-something|youthful adult", "young_adult teenager"),
            # 30-39: young adults all (the contract's cuts are 26 and 40)
            (r"in (?:his|her|their) (?:early |mid-?|late )?(?:thirties|30s)|thirty-something", "young_adult"),
            (r"middle[- ]aged|in (?:his|her|their) (?:forties|fifties|40s|50s)|midlife|mid-life", "middle_aged"),
            (r"elderly|old (?:female |male )?(?:woman|man|lady|gentleman|person|speaker|voice)|senior|aged (?:woman|man|speaker)"
             r"|older (?:woman|man|lady|gentleman|speaker|person)|in (?:his|her|their) (?:sixties|seventies"
             r"|eighties|nineties|60s|70s|80s)|grandmother|grandfather|grandma|grandpa|advanced age|getting on"
             r"|aging|ageing", "elderly"),
            (r"teenage|teenager|teen|teens|adolescent|adolescence|high[- ]school|in (?:his|her|their) teens"
             r"|youngster", "teenager"),
            (r"child|children|kid|kids|little (?:girl|boy)|small (?:girl|boy)|toddler|young child|schoolchild"
             r"|childlike|child's", "child"),
            (r"youth|youthful", "teenager young_adult"),
            (r"young (?:girl|boy)|girl|boy", "child teenager"),
            (r"young", "child teenager young_adult"),
        ),
        "gender": _en(
            (r"she|her|hers|herself|woman|women|female|lady|ladies|girl|mother|grandmother|grandma|actress"
             r"|daughter|sister|wife|feminine|gal", "female"),
            (r"he|his|himself|man|men|male|gentleman|gentlemen|boy|guy|father|grandfather|grandpa|son"
             r"|brother|husband|masculine", "male"),
        ),
    },
    "zh": {
        "speed": _zh(
            (r"不紧不慢|不快不慢|不慢不快|不急不缓|不疾不徐|语速(?:适中|正常|中等|平稳|均匀|平缓适中|自然|一般)"
             r"|(?:适中|正常|中等|平稳|均匀)的语速|节奏(?:适中|平稳)", "normal"),
            (r"语速" + _DEG_ZH + r"(?:快|急)|飞快|快速|急促|迅速|语速急|连珠炮|快节奏|很快地|较快地|快快地|匆匆|匆忙", "fast"),
            (r"语速" + _DEG_ZH + r"(?:慢|缓)|缓慢|慢悠悠|慢慢|缓缓|徐缓|慢条斯理|慢吞吞|放慢|慢速|迟缓|较慢地|很慢地", "slow"),
        ),
        "volume": _zh(
            (r"不大不小|音量(?:适中|正常|中等|平稳|一般|适度)|(?:适中|正常|中等)的音量|声音大小适中", "normal"),
            (r"音量" + _DEG_ZH + r"(?:大|高)|洪亮|响亮|大声|高声|嗓门大|声音很大|声音较大|声如洪钟|铿锵", "high"),
            (r"音量" + _DEG_ZH + r"(?:小|低)|轻声|小声|低声|细声|轻柔|声音很轻|声音较轻|声音轻|轻轻地|悄声|耳语", "low"),
        ),
        "pitch": _zh(
            (r"不高不低|(?:音调|音高|声调|音色的高低)(?:适中|正常|中等|平稳|平和|自然|一般)|(?:适中|正常|中等)的(?:音调|音高)", "normal"),
            (r"(?:音调|音高|声调|调门|嗓音|声音)" + _DEG_ZH + r"(?:高|尖)|" + _DEG_ZH + r"高的(?:音调|音高|声调|嗓音)"
             r"|高音|尖细|尖锐|高亢|尖利|尖声|清脆高亢", "high"),
            (r"(?:音调|音高|声调|调门|嗓音|声音)" + _DEG_ZH + r"(?:低|沉)|" + _DEG_ZH + r"低的(?:音调|音高|声调|嗓音)"
             r"|低沉|浑厚|低音|深沉|沙哑低沉|粗哑", "low"),
        ),
        "emotion": _zh(
            (r"中性|平静|平和|平淡|冷静|不带感情|不带情绪|没有(?:明显的?)?情绪|情绪平稳|语气平稳|心平气和|淡定|波澜不惊"
             r"|(?:情绪|感情)上?(?:没有|没什么|无)(?:明显的?|太大的?|什么)?(?:起伏|波动|变化)|语气平平|平平淡淡"
             r"|没有(?:什么|任何)?(?:特别|特殊|明显|太多)的?(?:情绪|感情)", "neutral"),
            (r"(?<!先)生气|愤怒|恼火|气愤|怒气|怒|火冒|不满|气冲冲|气呼呼|恼怒|发火|发脾气", "angry"),
            (r"厌恶|嫌弃|反感|恶心|鄙夷|嫌恶|鄙视|憎恶", "disgusted"),
            (r"恐惧|害怕|惊恐|畏惧|胆怯|惧怕|紧张不安|惶恐|战战兢兢|受惊|惊慌|慌张|慌乱|颤抖|发抖|吓坏|吓得|被吓", "fearful"),
            (r"开心|高兴|愉快|欢快|快乐|喜悦|愉悦|欣喜|兴高采烈|喜气洋洋|欢喜|轻快愉悦|乐呵呵|笑呵呵|乐滋滋|喜滋滋|美滋滋"
             r"|心情(?:很|非常|十分|特别|不错|挺)?(?:好|不错|舒畅)", "happy"),
            (r"悲伤|难过|伤心|低落|忧伤|哀伤|伤感|沮丧|悲痛|凄凉|哀怨|失落|心情(?:很|非常|十分|特别|有些|有点)?(?:差|沉重|不好)", "sad"),
            (r"兴奋", "happy surprised"),      # joy or surprise, as "excited" (激动 may be anger's)
            (r"惊讶|吃惊|诧异|惊奇|意外|震惊|惊愕|难以置信", "surprised"),
        ),
        "age": _zh(
            (r"中年|四十多岁|五十多岁|四五十岁|人到中年", "middle_aged"),
            (r"老年|老人|年长|年迈|老者|老爷爷|老奶奶|老先生|老太太|老大爷|老妇|上了年纪|六十多岁|七十多岁|八十多岁|花甲"
             r"|古稀|年老|苍老", "elderly"),
            (r"青少年|少年|少女|十几岁|中学生|高中生", "teenager"),
            (r"儿童|小孩|孩子|童声|小男孩|小女孩|幼儿|男童|女童|孩童|稚嫩", "child"),
            (r"青年|年轻(?:男子|女子|男性|女性|女士|男士|人|小伙)|二十多岁|三十岁出头|小伙子|小伙", "young_adult teenager"),
            (r"年轻|姑娘", "child teenager young_adult"),
            (r"男孩|女孩", "child teenager"),
        ),
        "gender": _zh(
            (r"女性|女士|女子|女生|女声|女孩|女童|小女孩|少女|女人|妇女|老妇|老太太|老奶奶|奶奶|阿姨|姑娘|母亲|妈妈|她|女",
             "female"),
            (r"男性|男士|男子|男生|男声|男孩|男童|小男孩|男人|老先生|老爷爷|老大爷|爷爷|大叔|先生|小伙子|小伙|父亲|爸爸|(?<!青)少年"
             r"|(?<!其)他|男", "male"),
        ),
    },
}

# Content the labels cannot support: body language, faces, gestures, inner life, what happens next.
INVENTED: dict[str, str] = {
    "en": (r"\b(?:smil\w*|grin\w*|frown\w*|nod\w*|shrug\w*|wink\w*|laugh\w*|chuckl\w*|giggl\w*|sigh\w*|gestur\w*"
           r"|fidget\w*|tears?|teary|weep\w*|crying|cries|lean\w* (?:forward|back|in|closer)|eyes|face|facial"
           r"|hands?|fists?|shoulders?|eyebrows?|brows?|blush\w*|nose|wrinkl\w*"
           r"|walks?|walking|walked|looks? (?:at|around|away|up|down)|point(?:s|ing|ed)? (?:up|down|at|out|to)|glanc\w*|stares?"
           r"|staring|remember\w*"
           r"|recall\w*(?! \w+ly\b)|reminisc\w*|thinks?|thinking|thought|wonder\w*|imagine(?! (?:a|an|you|yourself)\b)|imagin(?!e\b)\w*"
           r"|dream\w*|heart|memor\w*"
           r"|as if|as though|then|afterwards?|later|before (?:leaving|walking|turning)|turns? (?:away|around)"
           r"|pauses? to|hoping|hopes|longing|regret\w*|secretly|childhood|backstory|story continues"
           # gestures, settings and back stories the labels cannot know
           r"|jab\w*|fingers?|clench\w*|slam\w*|pound\w* (?:on|the)|arms?|clutch\w*|hiding"
           # a person's posture, not a voice's ("sitting at an ordinary pitch")
           r"|(?<!pitch )(?<!voice )(?<!volume )(?<!tone )(?<!-)(?:sitting|standing|lying|seated|kneeling)\b(?!(?: [\w,-]+){0,4} (?:pitch|level|volume|pace|register|tone)\b)"
           r"|nightmares?|sleepless|paranoid|guilt\w*|ashamed|jealous\w*|lonel\w*|exhausted"
           r"|in the rain|at (?:his|her|their|the|a) (?:desk|door|table|window)|after (?:weeks|days|months|years) of"
           r"|(?:has|had|have) just|just (?:found|heard|learned|received|lost|won|got)|widow\w*|lost in (?:a|the)"
           r"|wander\w* (?:away|off)|(?:just )?last (?:spring|summer|autumn|fall|winter|year|month|week)"
           # what happens after the line; not a pause or a stress before a word of it
           r"|before (?!speaking|saying|reading|starting|beginning|stressing|emphasi|the |a |an )\w+ing|goes on to|went on to)\b"),
    "zh": (r"微笑|笑着|笑了|笑容|大笑|皱眉|点头|摇头|耸肩|眨眼|挥手|手势|叹气|叹了口气|流泪|眼泪|泪水|眼神|目光"
           r"|回忆|想起|心里|内心|心想|仿佛|似乎在想|然后|随后|接着|转身|走开|离开|握紧|拳头|表情|脸上|童年|往事"
           r"|双手|眼睛|瞪大|搓来搓去|攥|跺脚|拍手|低下头|抬起头|脸红|咬着嘴唇|皱起|眉头|眼镜|眼角|摔门"
           r"|躲在|角落|埋进|臂弯|竖起|大拇指|涨得通红|涨红|小脸|满脸|嘴角|撇嘴|咧嘴|手舞足蹈|捂着|捂住|眼眶|挥舞"
           r"|一边说一边|边说边|说着说着|拿起|放下|跑开|蹦蹦跳跳|跳了起来"
           r"|拍着|拍桌|拍了拍|手心|冒汗|出汗|刚拿到|刚收到|深夜|半夜|病房|被窝|雨中|窗前|门口"
           r"|坐在|站在|躺在|靠在|小屋里|说完|跑回|再也不肯|低着头|低头|脸色|担心(?:被|会|自己)|跟踪|一边(?!说|讲|读|念)|往后退|刚刚(?!好)|失去|去世|故事的(?:最后|结尾|结局)"),
}

EMPHASIS_CUES = {
    "en": r"\b(?:emphas\w*|stress\w*|accent\w*|highlight\w*|punch\w*|weight\w*|underlin\w*|lean\w* (?:\w+ )?on|lands? hard"
          r"|extra force|pronounced|spotlight\w*|hardest|hit\w* (?:[^\s.,;]+ ){0,3}hard(?:er)?)\b",
    "zh": r"重读|强调|加重|重音|突出|着重|重点|咬字加重|[读念说咬]得[^，。；]{0,3}重|[读念说咬]重|重重地",
}

# The recording conditions and delivery (vocabulary.CONDITION_LABEL_NAMES), stated only when describe's
# `conditions` option is on. Read before every attribute above, and only when the labels name one of them, so
# that their phrases ("loud background noise", "a quiet room", "语调平淡") are never read as volume or emotion,
# and a text written without them is judged exactly as before. Within each attribute the qualified phrases
# come first ("slightly close-sounding", "a little variation", "no echo" before "close", "echo"); a bare
# "background noise" or "起伏" fits two values.
CONDITION_ORDER = ("noise", "reverberation", "monotony")
_MIC_EN = r"(?:the |a )?(?:microphone|mic|mike)"
_NOISE_EN = r"(?:background |ambient |room |environmental )?(?:noise|hiss|hum|din|chatter)"
_ECHO_EN = r"(?:echo|echoes|reverb|reverberation|room sound|room tone|ambience)"
_NOISE_ZH = r"(?:背景|环境)?(?:噪音|噪声|杂音|杂声)"
_SOME_ZH = r"(?:有些|有一些|有点|有一点|略有|稍有|少许|轻微的?|些许|一些|一点|带一点|带点|淡淡的|少量的?|微弱的?)"
CONDITION_LEXICON: dict[str, dict[str, list[tuple[str, set[str]]]]] = {
    "en": {
        "noise": _en(
            (r"(?:some|a little|a bit of|a little bit of|mild|slight|light|faint|moderate|modest|a touch of"
             r"|a trace of|minor|subtle|soft|occasional) " + _NOISE_EN + r"|(?:slightly|somewhat|moderately|a bit"
             r"|a little|fairly|mildly) noisy|balanced in clarity|(?:slightly|somewhat|fairly|reasonably) (?:clean"
             r"|clear)", "moderate_noise"),
            (r"(?:no|without (?:any )?|free (?:of|from) (?:any )?|zero|not any) " + _NOISE_EN + r"|noise[- ]free"
             r"|noiseless|(?:very |perfectly |quite |really )?(?:clean|pristine)(?: recording| audio| sound| signal)?"
             r"|(?:clear|crisp) (?:recording|audio|sound|signal|background)|studio[- ](?:quality|clean)"
             r"|(?:quiet|silent|calm|hushed|still) (?:room|background|setting|environment|surroundings|studio"
             r"|backdrop)|background (?:is |was )?(?:silent|quiet|clean)", "clean"),
            (r"(?:low|minimal|very little|barely any|hardly any|little) " + _NOISE_EN, "clean moderate_noise"),
            (r"(?:very |quite |rather |extremely |really )?noisy|(?:loud|heavy|strong|lots of|a lot of|much|constant"
             r"|considerable|significant|substantial|prominent|noticeable|intrusive|high|intense|plenty of) "
             + _NOISE_EN + r"|noise-filled|full of noise|(?:busy|crowded|bustling|chaotic|loud) (?:street|room"
             r"|place|environment|surroundings|setting|background|café|cafe|restaurant)|cacophony|clamou?r", "noisy"),
            (_NOISE_EN, "moderate_noise noisy"),
        ),
        "reverberation": _en(
            (r"(?:at |from )?(?:a |some )?(?:moderate|medium|middle|certain|some|small|short|modest|fair) distance"
             r"|a little way (?:from|off|away from) " + _MIC_EN + r"|(?:moderately|slightly|somewhat|a bit|a little"
             r"|fairly) (?:distant|far|close)(?:-sounding)?|(?:some|slight|mild|a little|a bit of|a touch of|light"
             r"|faint|subtle|a hint of|modest|moderate) " + _ECHO_EN + r"|not (?:too |very )?(?:far|close)(?: from"
             r"| to)? " + _MIC_EN + r"|neither (?:close|near) nor (?:far|distant)", "moderate_distance"),
            (r"(?:very |quite |really )?close to " + _MIC_EN + r"|(?:right )?(?:up )?(?:at|against|near|by|into) "
             + _MIC_EN + r"|close[- ](?:miked|mic'd|micd|mic'ed|up|sounding|range|microphone|mic)|up close"
             r"|(?:no|without (?:any )?|free of|zero|not any) " + _ECHO_EN + r"|echo-free|anechoic"
             r"|(?:dry|intimate|close)(?:,? (?:and )?(?:dry|intimate|close))? (?:recording|sound|acoustics?|voice"
             r"|presence)|close and dry|dry and close", "close"),
            (r"(?:very |quite |rather |really )?(?:distant|far-off|faraway)(?:-sounding)?|far (?:away )?from "
             + _MIC_EN + r"|(?:from|at) (?:a|some) distance|from afar|(?:strong|heavy|lots of|much|noticeable"
             r"|pronounced|considerable|a lot of|thick) " + _ECHO_EN + r"|echo(?:es|ing|ey|y)?"
             r"|reverb(?:erant|erating|erated|erates|eration|ed)?|hollow|cavernous|boomy|roomy"
             r"|(?:large|big|empty) (?:hall|room|space|church|auditorium)", "distant"),
        ),
        "monotony": _en(
            (r"(?:some|moderate|mild|a little|a bit of|slight|modest|a fair amount of|gentle|natural|measured"
             r"|occasional)(?: pitch)? (?:variation|inflection|expressiveness|modulation|rise and fall)"
             r"(?: in (?:pitch|tone|intonation))?|(?:moderately|somewhat|slightly|fairly|mildly|reasonably"
             r"|a bit|a little) (?:varied|expressive|expressively|animated|lively|dynamic)(?: and animated)?|moderate(?:ly)?"
             r"(?: varied)? intonation|(?:natural|normal|ordinary|balanced) intonation", "moderate_variation"),
            (r"monoton(?:e|ous|ously|ic|y)|(?:flat|level|unvaried|unvarying|droning)(?:,? monotone)?"
             r" (?:voice|intonation|delivery|tone|cadence|inflection|manner|way)|flatly|droning|drone"
             r"|(?:little|no|hardly any|barely any|not much|without (?:much |any )?)(?: pitch)? ?(?:variation"
             r"|inflection|intonation|modulation|expression|expressiveness)(?: in (?:pitch|tone|intonation))?"
             r"|unexpressive(?:ly)?|inexpressive(?:ly)?|expressionless(?:ly)?|robotic(?:ally)?|one-note|lifeless"
             r"|not (?:very |particularly |at all )?(?:expressive|animated|lively)", "monotone"),
            (r"(?:very |highly |quite |really |most )?(?:expressive|expressively|animated|animatedly|lively"
             r"|livelily|vivid|vividly|dynamic|spirited|vibrant|sing-song|singsong|melodic|theatrical"
             r"|dramatically|dramatic)|(?:rich|varied|wide|lively|strong|lots of|much|great|plenty of|dynamic"
             r"|sweeping|marked|pronounced) (?:pitch )?(?:intonation|inflection|variation|modulation|expression"
             r"|range)|full of (?:expression|feeling|life)|with feeling", "expressive"),
        ),
    },
    "zh": {
        "noise": _zh(
            (r"(?:没有|没|无|毫无|不带|听不到)(?:任何|什么|一点)?" + _NOISE_ZH + r"|(?:录音|音质|背景|音频)"
             + _DEG_ZH + r"(?:干净|纯净|清晰|清澈)|声音" + _DEG_ZH + r"纯净|干净|纯净|(?:背景|环境)" + _DEG_ZH + r"安静|安静的(?:环境|背景|房间)"
             r"|静谧", "clean"),
            (_SOME_ZH + _NOISE_ZH + r"|(?:噪音|噪声|杂音)(?:不大|较小|不多|轻微|适中)", "moderate_noise"),
            (r"嘈杂|喧闹|吵闹|吵杂|喧哗|(?:噪音|噪声|杂音)" + _DEG_ZH + r"(?:大|重|多|明显|强)|(?:背景|环境)" + _DEG_ZH
             + r"吵|充满(?:了)?" + _NOISE_ZH + r"|(?:很大|明显|强烈|浓重)的" + _NOISE_ZH, "noisy"),
            (_NOISE_ZH, "moderate_noise noisy"),
        ),
        "reverberation": _zh(
            (r"距离(?:适中|不远不近|适当|中等)|不远不近|" + _SOME_ZH + r"(?:回声|回音|混响)|(?:略|稍|有些|有点)远",
             "moderate_distance"),
            (r"(?:离|距|距离)(?:麦克风|话筒|麦)" + _DEG_ZH + r"近|(?:靠近|贴近|紧贴|贴着)(?:麦克风|话筒|麦)|声音" + _DEG_ZH
             + r"近|近距离|近讲|(?:没有|没|无|毫无|不带)(?:任何|什么)?(?:回声|回音|混响)|干声|近在耳边|就在耳边", "close"),
            (r"(?:离|距|距离)(?:麦克风|话筒|麦)" + _DEG_ZH + r"远|声音" + _DEG_ZH + r"(?:远|遥远|空旷)|远处|远远|遥远"
             r"|回声|回音|回响|混响|空旷|空荡|大厅里|礼堂里", "distant"),
        ),
        "monotony": _zh(
            (r"(?:语调|声调)?" + _SOME_ZH + r"(?:起伏|变化|抑扬)|有一定的?(?:起伏|变化)|抑扬适中|起伏适中|起伏不大|语调自然",
             "moderate_variation"),
            (r"(?:语调|声调)" + _DEG_ZH + r"(?:平淡|单调|平直|平板|呆板|机械)|(?:没有|没|毫无|缺乏|缺少|不带)(?:什么|任何)?"
             r"(?:起伏|抑扬|语调变化|变化|表现力)|单调|平铺直叙|(?<!语气)平淡|一字一板|平板|呆板", "monotone"),
            (r"抑扬顿挫|(?:语调|声调)?(?:起伏|变化)" + _DEG_ZH + r"(?:大|丰富|明显|强)|富有表现力|富于表现力|表现力"
             r"(?:很|极|十分)?(?:强|丰富|十足)|生动|声情并茂|绘声绘色|富有感染力|语调丰富|活泼|富于变化|跌宕起伏", "expressive"),
            (r"起伏|抑扬", "moderate_variation expressive"),
        ),
    },
}
