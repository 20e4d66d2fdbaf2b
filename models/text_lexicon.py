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
             r"|low[- ]energy|low volume|murmur|murmurs|murmuring|muted|barely audible)"
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
             r"|merry|merrily|gleeful|gleefully|contented|pleased|jubilant|good-humored|joy", "happy"),
            (r"sad|sadly|sadness|sorrow|sorrowful|sorrowfully|melancholy|melancholic|gloomy|gloomily|mournful"
             r"|mournfully|downcast|dejected|unhappy|grief|grieving|heartbroken|despondent|forlorn|wistful", "sad"),
            (r"surprised|surprise|astonished|astonishment|amazed|amazement|startled|stunned|taken aback"
             r"|in disbelief|incredulous|incredulously|shocked", "surprised"),
        ),
        "age": _en(
            (r"young adult|young (?:woman|man|lady|gentleman|female|male|speaker|person|adult)s?"
             r"|in (?:his|her|their) (?:twenties|early thirties|thirties|late twenties|mid-twenties|20s|30s)"
             r"|twenty-something|youthful adult", "young_adult teenager"),
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
            (r"he|him|his|himself|man|men|male|gentleman|gentlemen|boy|guy|father|grandfather|grandpa|son"
             r"|brother|husband|masculine", "male"),
        ),
    },
    "zh": {
        "speed": _zh(
            (r"不紧不慢|不快不慢|不慢不快|不急不缓|不疾不徐|语速(?:适中|正常|中等|平稳|均匀|平缓适中|自然|一般)"
             r"|(?:适中|正常|中等|平稳|均匀)的语速|节奏(?:适中|平稳)", "normal"),
            (r"语速" + _DEG_ZH + r"(?:快|急)|飞快|快速|急促|迅速|语速急|连珠炮|快节奏|很快地|较快地|快快地|匆匆|匆忙", "fast"),
            (r"语速" + _DEG_ZH + r"(?:慢|缓)|缓慢|慢悠悠|慢慢|徐缓|慢条斯理|慢吞吞|放慢|慢速|迟缓|较慢地|很慢地", "slow"),
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
            (r"中性|平静|平和|平淡|冷静|不带感情|不带情绪|没有(?:明显的?)?情绪|情绪平稳|语气平稳|心平气和|淡定|波澜不惊", "neutral"),
            (r"生气|愤怒|恼火|气愤|怒气|怒|火冒|不满|气冲冲|恼怒", "angry"),
            (r"厌恶|嫌弃|反感|恶心|鄙夷|嫌恶|鄙视|憎恶", "disgusted"),
            (r"恐惧|害怕|惊恐|畏惧|胆怯|惧怕|紧张不安|惶恐|战战兢兢", "fearful"),
            (r"开心|高兴|愉快|欢快|快乐|喜悦|愉悦|欣喜|兴高采烈|喜气洋洋|欢喜|轻快愉悦", "happy"),
            (r"悲伤|难过|伤心|低落|忧伤|哀伤|沮丧|悲痛|凄凉|哀怨|失落", "sad"),
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
        ),
        "gender": _zh(
            (r"女性|女士|女子|女生|女声|女孩|女童|小女孩|少女|女人|妇女|老妇|老太太|老奶奶|奶奶|阿姨|姑娘|母亲|妈妈|她|女",
             "female"),
            (r"男性|男士|男子|男生|男声|男孩|男童|小男孩|男人|老先生|老爷爷|老大爷|爷爷|大叔|先生|小伙子|小伙|父亲|爸爸|少年"
             r"|(?<!其)他|男", "male"),
        ),
    },
}

# Content the labels cannot support: body language, faces, gestures, inner life, what happens next.
INVENTED: dict[str, str] = {
    "en": (r"\b(?:smil\w*|grin\w*|frown\w*|nod\w*|shrug\w*|wink\w*|laugh\w*|chuckl\w*|giggl\w*|sigh\w*|gestur\w*"
           r"|fidget\w*|tears?|teary|weep\w*|crying|cries|lean\w* (?:forward|back|in|closer)|eyes|face|facial"
           r"|hands?|fists?|shoulders?|eyebrows?|brows?|blush\w*"
           r"|walks?|walking|walked|looks? (?:at|around|away|up|down)|glanc\w*|stares?|staring|remember\w*"
           r"|recall\w*|reminisc\w*|thinks?|thinking|thought|wonder\w*|imagin\w*|dream\w*|heart|memor\w*"
           r"|as if|as though|then|afterwards?|later|before (?:leaving|walking|turning)|turns? (?:away|around)"
           r"|pauses? to|hoping|hopes|longing|regret\w*|secretly|childhood|backstory|story continues)\b"),
    "zh": (r"微笑|笑着|笑了|笑容|大笑|皱眉|点头|摇头|耸肩|眨眼|挥手|手势|叹气|叹了口气|流泪|眼泪|泪水|眼神|目光"
           r"|回忆|想起|心里|内心|心想|仿佛|似乎在想|然后|随后|接着|转身|走开|离开|握紧|拳头|表情|脸上|童年|往事"
           r"|双手|眼睛|瞪大|搓来搓去|攥|跺脚|拍手|低下头|抬起头|脸红|咬着嘴唇"),
}

EMPHASIS_CUES = {
    "en": r"\b(?:emphas\w*|stress\w*|accent\w*|highlight\w*|punch\w*|weight\w*|underlin\w*|lean\w* on|lands? hard"
          r"|extra force|pronounced|spotlight\w*)\b",
    "zh": r"重读|强调|加重|重音|突出|着重|重点|咬字加重",
}
