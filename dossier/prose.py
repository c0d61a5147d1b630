"""What a card's prose says, measured: words, sentences, code identifiers, problem statements, shingles.

The depth rules (lint D2xx) ask these questions of motivation, implementation and explain; nothing here
knows about rules or cards.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable

#: the digits of a "#N" that names one of SGLang's PRs (lint checks it, render links it); a shorter number is another
#: project's ("NVIDIA Model-Optimizer #681"), which neither may take for SGLang's PR of that number
PR_DIGITS = r"\d{4,6}"
#: where the second "#N" of a slash pair starts ("#22876/#24613"): a number's slash, which a path's "docs/#2024" lacks;
#: lint's citations and render's links read it as "#N" after a space
PAIR_NEXT = r"(?<=\d/)"
WORD = re.compile(r"[A-Za-z0-9][\w'./+-]*[\w%]|[A-Za-z0-9]")
#: a sentence ends at . ! ? (and any closing quote or bracket) before a space, whatever case follows
_SENTENCE_END = re.compile(r"[.!?]+[\"')\]]*(?= )")
#: abbreviations whose period does not end the sentence ("e.g. the", "i.e. `x`", "vs. 0.5.9")
_NOT_AN_END = re.compile(r"(?<![\w.])(?:e\.g|i\.e|vs|cf|viz|approx|incl|resp|esp|w\.r\.t|a\.k\.a)\.$", re.IGNORECASE)
#: ... and those that end it only before a capital ("..., etc. The next", "et al. showed")
_END_BEFORE_CAPITAL = re.compile(r"(?<![\w.])(?:etc|al)\.$", re.IGNORECASE)
#: where a clause of a sentence starts: a semicolon, a comma before a conjunction ("..., while the default for
#: Hopper is unchanged")
CLAUSE = re.compile(r";|, (?:so|but|while|whereas|and|which|where) ")
#: a release version ("0.5.14", "v0.5.9.post1")
#: "=" as written-out arithmetic writes it, "approximately equal" too
EQUALS = r"(?:=|\u2248|~=)"
#: small whole numbers in words: "three files", "sixteen heads"
NUMBER_WORDS = {w: i for i, w in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
    "seventeen eighteen nineteen twenty".split())}
RELEASE = re.compile(r"(?<![\w.])v?\d+\.\d+\.\d+")


def release_named(version: str) -> str:
    """A pattern for ``version`` as prose names it: "0.5.23", "v0.5.23", "0.5.23." at a sentence's end; not
    "0.5.23.post1" or "10.5.23"."""
    return rf"(?<![\w.])v?{re.escape(version)}(?![\w.]*\d)"

#: "@@ -864,7 +864,6 @@ def __init__(" and "-864,7 +864,6": diff statistics, not prose
HUNK_HEADER = re.compile(r"@@[^@\n]*@@[^;\n]*|(?<![\w/])[-+]\d+,\d+\b")
#: "+0/-1", "(12 lines)", "3 files changed", "+80/-34"
DIFF_STAT = re.compile(r"(?<!\w)\+\d+\s*/\s*-\d+\b|\(\d+ lines?\)|\b\d+ files? changed\b")

PATHLIKE = re.compile(r"(?<![\w.-])(?:[\w.-]+/)+[\w.-]+|(?<![\w-])[\w-]+\.(?:py|pyi|cu|cuh|cpp|cc|h|hpp|json|yaml|yml|md|toml|txt|sh)\b")
_CODE_SPAN = re.compile(r"`([^`\n]+)`")
IDENTIFIER = re.compile(
    r"(?<![\w./-])(?:"
    r"--[a-z][a-z0-9]*(?:-[a-z0-9]+)+|--[a-z]{3,}"            # --flag
    r"|[A-Za-z_][A-Za-z0-9]*(?:\.[A-Za-z_][A-Za-z0-9]*)+(?:\(\))?"  # module.attr, obj.method()
    r"|[A-Za-z][A-Za-z0-9]*_\w*[A-Za-z0-9]"                    # snake_case, SNAKE_CASE, name_v2
    r"|_[A-Za-z]\w*"                                            # _private
    r"|[A-Z][a-z0-9]+(?:[A-Z][A-Za-z0-9]*)+"                    # CamelCase
    r"|[a-z][a-z0-9]*[A-Z][A-Za-z0-9]*"                         # camelCase
    r"|[A-Za-z_]\w*\(\)"                                        # call()
    r")(?![\w/-])"
)
#: model names (Qwen3-Next, qwen3_next, Qwen3.5-397B-A17B-FP8): a family, a version and model words only;
#: a class built on one (Qwen3ASRConfig, Qwen3NextForCausalLM) is an identifier
_FAMILY = (r"qwen|llama|deepseek|kimi|glm|gemma|mistral|mixtral|nemotron|minimax|falcon|phi|gpt|olmo|baichuan|"
           r"internlm|granite|jamba|bamba|zamba")
_MODEL_WORD = (r"next|moe|vl|asr|omni|coder|instruct|thinking|base|mtp|nextn|chat|hybrid|dense|linear|flash|max|plus|"
               r"turbo|mini|small|large|exp|fp8|fp4|nvfp4|int4|int8|awq|gptq|bf16|v\d[\w.]*|a?\d+(?:\.\d+)?[bmk]|\d[\d.]*")
MODEL_NAME = re.compile(rf"(?i)^(?:{_FAMILY})[\d.]*(?:[-_. ]?(?:{_MODEL_WORD}))*$")
#: Python words and dunders that name nothing particular to a change
GENERIC_CODE = {"self", "cls", "none", "true", "false", "return", "import", "from", "def", "class", "lambda", "if",
                 "else", "elif", "for", "while", "with", "not", "and", "or", "is", "in", "as", "pass", "int", "str",
                 "float", "bool", "list", "dict", "tuple", "len", "range", "isinstance", "getattr", "setattr",
                 "hasattr", "print", "super", "torch", "args", "kwargs", "x", "y", "e.g", "i.e", "etc", "vs", "i.e.",
                 "e.g."}
#: products and projects written in CamelCase: names, not code
BRANDS = {"github", "gitlab", "pytorch", "flashinfer", "deepep", "deepgemm", "tensorrt", "cute", "cutedsl", "nvlink",
          "rocm", "huggingface", "modelscope", "openai", "sglang", "vllm", "triton", "mooncake", "nixl", "fastapi",
          "numpy", "cupy", "jax", "megatron", "deepspeed", "nvidia", "amd", "intel", "moe", "gluon", "hopper",
          "blackwell", "ampere", "javascript", "typescript", "macos", "iphone", "youtube", "linkedin", "slack"}
_ABBREVIATION = re.compile(r"^(?:e\.g|i\.e|etc|vs|a\.k\.a|cf|no|approx)\.?$", re.IGNORECASE)

#: generic phrases that say nothing a reader can check (with their inflections)
GENERIC = re.compile(
    r"\b(?:"
    r"improv(?:e|es|ed|ing|ement|ements) (?:things|it|stuff|the code|code quality|everything|overall)"
    r"|(?:works?|working|worked|runs?|ran) (?:much |a lot |a bit )?(?:better|faster|smoother|fine|well|correctly)"
    r"|(?:the )?key (?:change|changes|part|idea|point|piece)(?: (?:of|in|that) (?:this|the) (?:pr|change|patch))?"
    r"|this (?:pr|change|patch|commit) (?:makes|does|changes|fixes|improves|adds|updates|is about)"
    r"|(?:various|several|some|minor|small|misc(?:ellaneous)?) (?:changes|fixes|improvements|tweaks|updates|"
    r"issues|problems|things|cleanups?|refactors?)"
    r"|fix(?:es|ed|ing)? (?:the |an |a |some )?(?:issue|issues|bug|bugs|problem|problems|things)\b"
    r"(?! (?:where|when|in|that|with|of)\b| ?#\d)"
    r"|optimi[sz](?:e|es|ed|ing|ation|ations) (?:the )?(?:code|performance|things|it)"
    r"|(?:better|improved|increased) performance"
    r"|make[sd]? (?:it|things|everything|the code) (?:faster|better|cleaner|work)"
    r"|clean(?:s|ed|ing)? up (?:the )?code"
    r"|everything (?:is|was|works) (?:fine|good|ok|okay|correct)"
    r"|(?:not|wasn't|weren't) quite right"
    r"|for all users|as expected|in general|generally (?:faster|better)"
    r"|(?:changes|updates|modifications) (?:were|are|have been) made"
    r"|than it did before|than before"
    r"|handl(?:e|es|ed|ing) (?:\w+ ){0,3}(?:correctly|properly|gracefully)"
    r"|(?:works?|working|worked|behaves?) (?:correctly|properly|as intended|as expected)"
    r"|make (?:sure|certain) (?:that )?(?:it|things|everything) (?:works?|is fine)"
    r"|the (?:relevant|necessary|required|appropriate) (?:code|changes|functions|logic|files|parts)"
    r"|(?:updated|adjusted|modified|changed|tweaked|refactored) accordingly"
    r"|(?:the )?(?:core|heart|crux|main thing|essence) of (?:the |this )?(?:optimi[sz]ation|change|fix|pr|patch)"
    r"|in order to work"
    # filler that names places and tests without saying what they do: "where it was needed", "the files listed above"
    r"|where (?:it was |they were |it is |they are )?(?:needed|necessary|required|appropriate)|as (?:needed|necessary)"
    r"|the (?:remaining|other|rest of the) code (?:stays|remains|is left|was left) (?:as it was|unchanged|untouched|"
    r"the same)"
    r"|(?:the )?(?:existing )?tests cover (?:it|this|them|the (?:change|changes|new code|new behaviou?r|paths?|code))"
    r"(?: that (?:was|were) (?:touched|changed))?\b"
    r"|(?:in )?the files listed (?:above|below)"
    r"|improv(?:e|es|ed|ing) (?:the )?(?:overall )?(?:performance|efficiency|speed|robustness|readability|"
    r"maintainability|stability)"
    r"|(?:boost|enhance)(?:s|d|ing)? (?:the )?(?:overall )?performance"
    r"|more (?:robust|efficient|maintainable|readable)|easier to (?:maintain|read|understand|extend)"
    r"|(?:the )?code (?:quality|cleaner)|(?:makes?|made|making) (?:the code |it )?cleaner|cleaner (?:code|design)"
    r"|significant(?:ly)? (?:performance )?(?:improvements?|gains?|speedups?|faster|better)"
    r"|(?:better|improved) (?:efficiency|robustness|maintainability|readability)"
    # promotion in place of facts: "a significant step forward", "crucial for production deployments at scale"
    r"|(?:significant|major|important|big|huge|crucial|key) step(?: forward)?|step forward"
    r"|(?:crucial|essential|critical|vital|key|important) for (?:production|real-world|modern|large-scale|efficient|"
    r"performance|users|deployments?|workloads?|scalability|inference|serving)"
    r"|at scale|production[- ]ready|production[- ]grade|state[- ]of[- ]the[- ]art|cutting[- ]edge|game[- ]?changer"
    r"|paves? the way|seamless(?:ly)?|modern hardware|real[- ]world (?:workloads|scenarios|deployments|use cases)"
    r"|(?:a )?wide (?:range|variety) of|(?:many|various|diverse) (?:scenarios|use cases|workloads|settings)"
    r"|(?:greatly|dramatically|substantially|considerably|vastly) (?:improv|enhanc|reduc|benefit|boost|simplif)\w*"
    r"|(?:benefits?|helps?) (?:users|everyone|all users|the community)|(?:overall )?user experience"
    r")\b",
    re.IGNORECASE,
)

#: a symptom a reader can observe
HARD_SYMPTOM = re.compile(
    r"\b(?:crash(?:es|ed|ing)?|hang(?:s|ing)?|hung|deadlock(?:s|ed)?|oom|out[- ]of[- ]memory|nan(?:s)?|inf(?:s)?|"
    r"garbage|gibberish|wrong|incorrect(?:ly)?|mismatch(?:es|ed)?|error(?:s|ed)?|exception|traceback|"
    r"fail(?:s|ed|ing|ure|ures)?|assert(?:ion)?(?:error)?|segfault|illegal memory|out of bounds|overflow(?:s|ed)?|"
    r"corrupt(?:s|ed|ion)?|leak(?:s|ed)?|race|diverg(?:e|es|ed|ence)|accuracy (?:drop|dropped|drops|fell|falls|"
    r"loss|regression)|regress(?:es|ed|ion|ions)?|raise[sd]?|raising|broke(?:n)?|break(?:s)?|bug(?:gy)?|"
    r"stale|scrambl(?:e|es|ed)|dropped|zero(?:es|s)? out|uninitiali[sz]ed|undefined|invalid|timeout|timed out|"
    r"deadlock|silently|unsupported|rejected|refus(?:e|es|ed))\b",
    re.IGNORECASE,
)
#: a cost that needs a number and a unit to be a stated problem
PERF_SYMPTOM = re.compile(
    r"\b(?:slow(?:er|ly|down|s)?|latency|throughput|ttft|tpot|itl|overhead|bottleneck|bandwidth|speed(?:up)?|"
    r"faster|time|took|takes|spent|spends|profiled|cost(?:s|ly)?|launch(?:es)?|memory|footprint|utili[sz]ation|"
    r"occupancy|wasted?|idle|redundant|extra|capacity)\b",
    re.IGNORECASE,
)
MEASURE = re.compile(
    r"\d(?:[\d.,]*\d)?\s*(?:%|x\b|×|ms\b|us\b|µs|μs|ns\b|s\b|sec|seconds|minutes|tok/s|tokens?/s|req/s|qps|"
    r"gb\b|gib|mb\b|mib|kb\b|tflops|gb/s|tb/s|percent|times|kernels?|launch(?:es)?|gemms?|copies|passes|"
    r"layers|steps|requests|tokens|slots)",
    re.IGNORECASE,
)
#: a time, rate or size on its own is a measured cost
TIMED = re.compile(r"\d(?:[\d.,]*\d)?\s*(?:ms|us|µs|μs|ns|tok/s|tokens?/s|req/s|gb/s|tb/s|tflops)\b", re.IGNORECASE)
#: a cost or design flaw named without numbers: needs a reason (below) to count
FLAW = re.compile(
    r"\b(?:poor(?:ly)?|inefficien(?:t|tly|cy)|uncoalesced|overhead|bottleneck|wast(?:e|es|ed|eful)|redundant(?:ly)?|"
    r"unnecessar(?:y|ily)|serializ(?:e|es|ed)|contention|interfer(?:e|es|ed|ing)|confus(?:ing|ed|ion)|misleading|"
    r"inconsistent|duplicat(?:e|ed|es|ion)|hard-coded|fragile|brittle)\b",
    re.IGNORECASE,
)
#: a capability that was missing, and the reason words that explain why it matters
GAP = re.compile(
    r"\b(?:could not|couldn't|cannot|can't|can not|was not able|were not able|unable|no way|not supported|"
    r"unsupported|did not support|didn't support|does not support|do not support|lacked|lacking|lacks|missing|"
    r"missed|misses|had no|has no|have no|did not|didn't|does not|doesn't|do not|never|only (?:\w+ed|\w+s|for|on)|"
    r"required|requires|needed|needs|without|forc(?:e|es|ed|ing)|had to|stayed|limit(?:s|ed|ing)?|"
    r"prevent(?:s|ed|ing)?|lose|loses|lost|fell back|falls back|fall back)\b",
    re.IGNORECASE,
)
REASON = re.compile(r"\b(?:because|since|so that|so|due to|as a result|which|therefore|thus|hence|when|whenever|"
                    r"while|until|unless|if|for|would|leaving|making|causing)\b|[:;(]", re.IGNORECASE)
_ENGLISH = {"the", "a", "an", "of", "to", "in", "and", "or", "is", "are", "was", "were", "be", "it", "that", "this",
            "for", "on", "with", "by", "as", "at", "from", "not", "no", "but", "so", "its", "which", "when", "into",
            "than", "then", "each", "one", "only", "now", "has", "had", "have", "does", "did", "do"}


def link_targets_dropped(text: str) -> str:
    """``text`` with each markdown link's target taken off ("[#N](pr-history.md#pr-N)" reads "[#N]"): a target's
    words ("history", "pr-N") say nothing about the clause around the link."""
    return re.sub(r"\]\([^()\s]*\)", "]", text)


def clean(text: str) -> str:
    """Text without diff statistics and hunk headers, whitespace collapsed."""
    return " ".join(DIFF_STAT.sub(" ", HUNK_HEADER.sub(" ", text)).split())


def words(text: str) -> list[str]:
    return [w.lower().strip("'.") for w in WORD.findall(text) if w.strip("'.")]


def sentences(text: str) -> list[str]:
    """The sentences of ``text``, lowercase starts included; a period inside a name (``torch.compile``,
    ``0.5.23``) or after an abbreviation (e.g., i.e., vs.) is not an end."""
    flat = " ".join(text.split())
    out, begin = [], 0
    for m in _SENTENCE_END.finditer(flat):
        word = flat[flat.rfind(" ", 0, m.start()) + 1:m.end()].rstrip("\"')]")
        if _NOT_AN_END.search(word) or (_END_BEFORE_CAPITAL.search(word) and not flat[m.end() + 1:][:1].isupper()):
            continue
        out.append(flat[begin:m.end()])
        begin = m.end() + 1
    out.append(flat[begin:])
    return [s.strip() for s in out if s.strip()]


def identifiers(text: str) -> set[str]:
    """Distinct code identifiers (flags, env vars, functions, classes, attributes, tensors) in ``text``:
    paths, file names, diff statistics and hunk headers excluded."""
    text = clean(text)
    text = PATHLIKE.sub(" ", text)
    found = {m.group(0).removesuffix("()") for m in IDENTIFIER.finditer(text)}
    for span in _CODE_SPAN.findall(text):  # a `code span` is an identifier even when it is one plain word
        span = span.strip().removesuffix("()")
        if re.fullmatch(r"[A-Za-z_][\w.]*", span) and (len(span) >= 3 or not span.islower()):
            found.add(span)
    return {i for i in found if _meaningful(i)}


def _meaningful(ident: str) -> bool:
    low = ident.lower()
    if low in GENERIC_CODE or low in BRANDS or _ABBREVIATION.match(ident) or (ident.startswith("__") and ident.endswith("__")):
        return False
    return not re.fullmatch(r"[\d._]+|v?\d+(?:\.\d+)+\w*", ident)


def concrete_terms(text: str) -> set[str]:
    """Identifiers, paths and numbers: the things in ``text`` a reader can look up or check."""
    text = clean(text)
    return identifiers(text) | set(PATHLIKE.findall(text)) | set(re.findall(r"\d+(?:\.\d+)?", text))


#: a word a reader can check: it holds a digit, an underscore, an inner capital or an acronym, or is a path
SPECIFIC = re.compile(r"\d|_|[a-z][A-Z]|[A-Z]{2}|\w/\w")


def specific_share(text: str) -> float:
    """Share of whitespace-separated words that are specific (numbers, identifiers, acronyms, paths)."""
    ws = clean(text).split()
    return sum(bool(SPECIFIC.search(w)) for w in ws) / len(ws) if ws else 0.0


def is_model_name(ident: str) -> bool:
    return bool(MODEL_NAME.match(ident.replace("_", "-")))


def own_identifiers(text: str, title: str, paths: Iterable[str]) -> set[str]:
    """Identifiers of ``text`` that the title, the card's files and model names do not already give away."""
    title_words = {w.lower() for w in re.findall(r"[\w.-]+", title)}
    title_words |= {w.lower() for i in identifiers(title) for w in re.split(r"[.]", i)}
    path_words: set[str] = set()
    for p in paths:
        for part in re.split(r"[/]", p):
            path_words.add(part.lower())
            path_words.add(part.rsplit(".", 1)[0].lower())
    out = set()
    for ident in identifiers(text):
        key = ident.lower().removeprefix("--")
        if key in title_words or key in path_words or is_model_name(ident):
            continue
        if "." in ident and all(p.lower() in title_words | path_words or is_model_name(p) for p in ident.split(".")):
            continue
        out.add(ident)
    return out


def generic_phrases(text: str) -> list[str]:
    return [m.group(0) for m in GENERIC.finditer(text)]


def empty_sentences(text: str) -> list[str]:
    """Sentences built on a generic phrase that name nothing a reader can check (no number, identifier,
    acronym but "PR", or path): "This PR improves performance and makes the code cleaner." fits any PR."""
    out = []
    for s in sentences(text):
        if GENERIC.search(s) and not any(SPECIFIC.search(w) for w in clean(s).split() if w.strip(".,;:()") not in
                                         ("PR", "PRs")):
            out.append(s)
    return out


def states_problem(text: str) -> bool:
    """A symptom (crash, hang, NaN, wrong output, accuracy drop...), a cost with a number and a unit, or a
    missing capability or flaw with the reason it matters (in its sentence or the next)."""
    if HARD_SYMPTOM.search(text) or TIMED.search(text):
        return True
    ss = sentences(text) or [text]
    for i, s in enumerate(ss):
        if PERF_SYMPTOM.search(s) and MEASURE.search(s):
            return True
        gap = GAP.search(s) or FLAW.search(s)
        if gap and REASON.search(s[gap.end():] + " " + s[:gap.start()] + " " + " ".join(ss[i + 1:i + 2])):
            return True
    return False


def distinct_share(ws: list[str], window: int = 40) -> float:
    """Moving-average type-token ratio: the mean share of distinct words in every ``window``-word stretch
    (independent of length, unlike distinct/total)."""
    if not ws:
        return 0.0
    if len(ws) <= window:
        return len(set(ws)) / len(ws)
    counts = Counter(ws[:window])
    total = len(counts)
    for i in range(window, len(ws)):
        counts[ws[i]] += 1
        counts[ws[i - window]] -= 1
        if counts[ws[i - window]] == 0:
            del counts[ws[i - window]]
        total += len(counts)
    return total / (len(ws) - window + 1) / window


def repeated_sentences(text: str, min_words: int = 5) -> list[str]:
    """Sentences (of at least ``min_words`` words) that occur more than once."""
    seen: Counter[tuple[str, ...]] = Counter()
    firsts: dict[tuple[str, ...], str] = {}
    for s in sentences(text):
        key = tuple(words(s))
        if len(key) >= min_words:
            seen[key] += 1
            firsts.setdefault(key, s)
    return [firsts[k] for k, n in seen.items() if n > 1]


def english_share(ws: list[str]) -> float:
    """Share of common English function words among the alphabetic words (prose sits well above 0.15)."""
    alpha = [w for w in ws if w.isalpha()]
    return sum(w in _ENGLISH for w in alpha) / len(alpha) if alpha else 0.0


def shingles(text: str, n: int = 5) -> set[tuple[str, ...]]:
    ws = words(clean(text))
    return {tuple(ws[i:i + n]) for i in range(len(ws) - n + 1)}


def jaccard(a: set, b: set) -> float:
    return len(a & b) / len(a | b) if a and b else 0.0


def skeleton(text: str, title: str) -> tuple[str, ...]:
    """The text with everything card-specific masked (title words, paths, numbers, identifiers, model names):
    what is left is the frame a template fills."""
    title_words = {w.lower() for w in re.findall(r"[\w.-]+", title)}
    text = HUNK_HEADER.sub(" H ", DIFF_STAT.sub(" S ", text))
    text = PATHLIKE.sub(" P ", text)
    text = IDENTIFIER.sub(" I ", text)
    out: list[str] = []
    for w in re.findall(r"[\w.'-]+|[^\w\s]", text):
        low = w.lower()
        if low in title_words or is_model_name(w):
            w = "T"
        elif re.fullmatch(r"[\d.,%x]+", low) or re.search(r"\d", low):
            w = "N"
        else:
            w = low
        if not (out and out[-1] == w and w in "TNIPHS"):
            out.append(w)
    return tuple(out)


def first_few(items: list[str], n: int, sep: str = ", ") -> str:
    """The first ``n`` of ``items`` joined, with how many more there are."""
    return sep.join(items[:n]) + (f" and {len(items) - n} more" if len(items) > n else "")
