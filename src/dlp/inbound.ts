import { Buffer } from 'node:buffer';
import type { InboundHit, InboundLevel, InboundResult } from './types.js';
import { AhoCorasick } from './aho-corasick.js';
import { escapeViews, fold, type View, type ViewLimits } from './views.js';

/**
 * Inbound prompt-injection scoring (docs/decisions/dlp-inbound.md, raised by
 * docs/decisions/dlp-v2-views-and-validators.md). Case-insensitive, whitespace-tolerant phrase
 * rules, each with a weight; a hit's weight is discounted when it is quoted, inside code, or next
 * to explanatory security prose, and raised when hidden (HTML comment, invisible styling, Unicode
 * tag characters) or encoded (base64, %XX or \\u escapes of an instruction), and cut when negated
 * ("never send your token"). Score = the strongest category's hit plus half of each other
 * category's strongest. `high` (block) at score ≥ 1: one unambiguous instruction aimed at the
 * agent is enough; quoting in docs and security articles stays below. `medium` (warn): any hit.
 *
 * Recall (docs/decisions/egress-inbound-block.md: responses below block are delivered, so recall
 * belongs here): the text is folded first (zero-width/bidi/soft-hyphen characters removed,
 * fullwidth and math letters to ASCII; a phrase split by an invisible character counts as
 * hidden); a fake role tag ([SYSTEM], <system-reminder>, <|im_start|>system) followed by an
 * instruction to the agent blocks; jailbreak personas, "your actual task is", notes labelled for
 * AI agents, claimed permissions, credential-file uploads, "decode and run", and an action hidden
 * from the user are rules of their own; and two signals of different categories in one message,
 * one of them aimed at the agent, count in full (pairScore), so two medium signals block.
 *
 * LIMITATION: phrase heuristics, not a classifier — paraphrases get through, and an attacker who
 * wraps the payload in "for example" prose buys a discount; hidden/encoded payloads get none.
 * Homoglyphs (Cyrillic letters) are not folded.
 */
interface PhraseRule {
  readonly id: string;
  readonly category: InboundHit['category'];
  readonly weight: number;
  /**
   * Cheap pre-filter on the lowercased text: every group must have one of its words present for
   * the regex to run (most rules never run on ordinary pages; a regex pass costs ~1 ms per MiB).
   */
  readonly keys: readonly (readonly string[])[];
  readonly re: RegExp;
  /**
   * A fake role/system tag followed (within `within` characters) by an instruction to the agent
   * becomes one more hit, `${id}_instruction`, of `weight` (docs/decisions/egress-inbound-block.md: recall belongs in the DLP).
   */
  readonly follow?: { readonly re: RegExp; readonly within: number; readonly weight: number };
}

const W = String.raw`[\w'’-]+\s+`;
const rule = (
  id: string,
  category: InboundHit['category'],
  weight: number,
  keys: readonly string[] | readonly (readonly string[])[],
  source: string,
  follow?: PhraseRule['follow'],
): PhraseRule => ({
  id,
  category,
  weight,
  keys: keys.length > 0 && typeof keys[0] === 'string' ? [keys as readonly string[]] : (keys as readonly (readonly string[])[]),
  // No 'u' flag: it makes irregexp ~10x slower here and every pattern is BMP-only.
  re: new RegExp(source, 'gi'),
  ...(follow ? { follow } : {}),
});

const AGENT = String.raw`(?:ai|a\.i\.|llm|language\s+model|assistant|agent|chatbot|bot|gpt|chatgpt|claude|copilot|gemini|model|coding\s+agent)`;
/** Actions an injected instruction asks of the agent (state-changing or disclosing ones). */
const ACT = String.raw`(?:send|upload|post|push|run|execute|ignore|reveal|print|output|delete|remove|disable|exfiltrate|forward|e-?mail|install|add|commit|merge|skip|approve|curl|fetch|copy|write|modify|grant|open)`;
/**
 * An instruction aimed at the agent, looked for right after a fake role tag: "you must …", "the
 * assistant must run …", "authorized you to …", an override verb, "Execute:", "do it now", "new
 * policy", "before continuing". A chat-template example ("You are a helpful assistant") has none.
 */
const IMPERATIVE = new RegExp(
  String.raw`\byou\s+(?:must|should|shall|need\s+to|have\s+to|will\s+now|are\s+(?:now\s+)?(?:required|instructed|expected|authori[sz]ed|allowed|permitted|cleared)\s+to|have\s+(?:already\s+)?been\s+(?:authori[sz]ed|instructed|permitted|allowed|cleared)\s+to)\b` +
    String.raw`|\b${AGENT}s?\s+(?:must|should|shall|needs?\s+to|has\s+to|is\s+(?:now\s+)?(?:required|instructed|expected|authori[sz]ed|allowed|permitted)\s+to)\s+(?:now\s+|immediately\s+|first\s+|also\s+)?${ACT}\b` +
    String.raw`|\b(?:authori[sz]ed|permitted|allowed|instructed|ordered|cleared)\s+you\s+to\b|\b(?:ignore|disregard|forget)\s+(?:all|any|the|your|previous|prior)\b` +
    String.raw`|\b(?:execute|run)\s*:|\bdo\s+(?:it|this|so)\s+(?:now|immediately|right\s+away)\b|\bbefore\s+(?:continuing|responding|answering|replying|proceeding)\b|\bnew\s+(?:policy|instructions?|rules?|task|directive)\b`,
  'i',
);
const FOLLOW = { re: IMPERATIVE, within: 300, weight: 1 } as const;
/** Credential files under a home directory. */
const SECRET_FILE = String.raw`(?:~|\$HOME|\$\{HOME\}|/root|/home/[\w.-]+)/\.(?:ssh|aws|config/gcloud|docker|kube|netrc|npmrc|pypirc|git-credentials|gnupg)\b`;

export const INBOUND_RULES: readonly PhraseRule[] = [
  // Overrides: one is an unambiguous instruction to the agent (weight 1 = block on its own).
  rule(
    'ignore_previous_instructions',
    'override',
    1,
    ['ignore'],
    String.raw`\bignore\s+(?:${W}){0,4}?(?:previous|prior|above|earlier|preceding|all|any|your)\s+(?:${W}){0,2}?(?:instructions?|prompts?|directions?|directives?|rules|guidelines)\b`,
  ),
  rule('disregard_system_prompt', 'override', 1, ['disregard'], String.raw`\bdisregard\s+(?:${W}){0,3}?(?:system\s+prompt|instructions?|directives?|guidelines|rules)\b`),
  rule('forget_instructions', 'override', 1, ['forget'], String.raw`\bforget\s+(?:${W}){0,3}?(?:instructions|system\s+prompt|rules|guidelines)\b`),
  rule('override_system_prompt', 'override', 1, ['system prompt'], String.raw`\b(?:override|new|replace)\s+(?:the\s+|your\s+)?system\s+prompt\b`),
  rule('stop_following', 'override', 1, [['stop', 'cease'], ['follow', 'obey']], String.raw`\b(?:stop|cease)\s+(?:following|obeying)\s+(?:your|the|all|any|previous|prior)\b`),
  rule('new_instructions', 'override', 0.6, [['instruction'], ['new', 'updated', 'revised', 'real', 'actual', 'true', 'secret', 'hidden']], String.raw`\b(?:new|updated|revised|real|actual|true|secret|hidden)\s+instructions?\s*(?::|are\s*:|follow\b)`),
  rule('you_are_now', 'override', 0.35, [['now'], ['you']], String.raw`\byou\s+are\s+now\b`),
  rule('from_now_on', 'override', 0.3, ['now on'], String.raw`\bfrom\s+now\s+on\b[^.\n]{0,40}\byou\b`),
  rule(
    'mode_switch',
    'override',
    0.5,
    ['mode'],
    String.raw`\b(?:developer|god|jailbreak|dan|unrestricted|unfiltered|debug)\s+mode\s+(?:enabled|activated|on)\b|\b(?:enter|enable|activate|switch\s+to)\s+(?:developer|god|jailbreak|dan|unrestricted|unfiltered)\s+mode\b|\byou\s+are\s+(?:now\s+)?(?:in|running\s+in)\s+(?:developer|god|jailbreak|dan|unrestricted|unfiltered|maintenance)\s+mode\b`,
  ),
  // A jailbreak persona assigned to the agent ("You are now DAN", "act as an AI without
  // restrictions"). Prose describing DAN prompts ("tell a model that it is now …") does not say
  // "you are"; quoting it in an article is discounted like any quotation.
  rule(
    'jailbreak_persona',
    'override',
    0.7,
    [
      ['you are', 'act as', 'pretend'],
      ['dan', 'restriction', 'unrestricted', 'unfiltered', 'uncensored', 'jailbroken', 'without any', 'with no', 'anything now'],
    ],
    String.raw`\b(?:you\s+are\s+(?:now\s+)?|act\s+as\s+|pretend\s+(?:to\s+be|you\s+are)\s+)(?:dan\b|do\s+anything\s+now\b|an?\s+(?:${W}){0,2}?(?:unrestricted|unfiltered|uncensored|jailbroken)\b|an?\s+(?:${W}){0,2}?${AGENT}\s+(?:with\s+no|without(?:\s+any)?)\s+(?:restrictions|rules|limits|limitations|filters|guidelines)\b)`,
  ),
  // "your actual task is …": redefines what the agent was asked to do.
  rule(
    'task_redefinition',
    'override',
    0.6,
    [['your'], ['task', 'goal', 'job', 'mission', 'objective', 'purpose']],
    String.raw`\byour\s+(?:actual|real|true|new|only|primary|updated)\s+(?:task|goal|job|mission|objective|purpose)\s+(?:now\s+)?(?:is|are)\b`,
  ),
  // Authority framing: a fake system/admin voice. A bare "System:" label is common in docs
  // ("System: Linux"), a bracketed or tagged role is not.
  rule(
    'system_tag',
    'authority',
    0.3,
    ['system:', 'system :', 'system message', 'system note', 'system override', 'admin:', 'admin :', 'administrator:', 'administrator :', 'admin message', 'admin note'],
    String.raw`(?:^|[\n"'>])[ \t>*#]*(?:system|admin|administrator)\s*(?:message|note|override)?\s*:`,
  ),
  // A fake role tag: [SYSTEM], <system>, <system-reminder>, [ADMIN NOTE]; followed by an
  // instruction to the agent it is an injection on its own (FOLLOW).
  rule(
    'role_tag',
    'authority',
    0.5,
    ['[system', '[ system', '<system', '< system', '[admin', '<admin', '[developer', '<developer', '[root', '[operator', '<operator', '[sys]'],
    String.raw`\[\s*(?:system|sys|admin|administrator|developer|root|operator)(?:[\s_-]*(?:message|note|prompt|override|reminder|instructions?|notice|update))?\s*\]|<\s*(?:system|admin|administrator|developer|operator)(?:[\s_-]*(?:message|note|prompt|override|reminder|instructions?|notice|update))?(?:\s+[\w-]+=(?:"[^"<>]{0,40}"|'[^'<>]{0,40}'|[\w-]{1,40}))*\s*>`,
    FOLLOW,
  ),
  rule('chat_template', 'authority', 0.8, ['<|', '[inst]', '<<sys>>'], String.raw`<\|im_start\|>\s*system|<\|system\|>|<\|start_header_id\|>\s*system|\[INST\]|<<SYS>>`, FOLLOW),
  // A claimed grant of permission: "the user has already authorized you to push".
  rule(
    'claimed_authorization',
    'authority',
    0.5,
    [['authori', 'approved', 'permitted', 'allowed', 'granted', 'cleared'], ['you', 'assistant', 'agent']],
    String.raw`\b(?:has|have)\s+(?:already\s+)?(?:authori[sz]ed|approved|permitted|allowed|granted|cleared)\s+(?:you|the\s+(?:assistant|agent|ai|model))\s+to\b|\byou\s+(?:are|have\s+been)\s+(?:now\s+|already\s+)?(?:authori[sz]ed|permitted|allowed|cleared)\s+to\s+(?:now\s+)?${ACT}\b`,
  ),
  rule('as_your_authority', 'authority', 0.7, ['as your'], String.raw`\bas\s+your\s+(?:administrator|admin|developer|creator|owner|operator|supervisor|manager|system|principal|maintainer)\b`),
  rule(
    'message_from_authority',
    'authority',
    0.6,
    [
      ['message', 'note', 'notice', 'directive', 'instruction'],
      ['system', 'admin', 'developer', 'openai', 'anthropic', 'creator', 'operator', 'owner', 'user'],
    ],
    String.raw`\b(?:message|note|notice|directive|instructions?)\s+(?:from|by)\s+(?:the\s+)?(?:system|administrator|admin|developers?|openai|anthropic|your\s+(?:developer|creator|operator|owner|user))\b`,
  ),
  // Addressing the agent directly.
  rule(
    'addresses_agent',
    'addressing',
    0.5,
    [
      ['note', 'attention', 'dear', 'if you are'],
      ['ai', 'llm', 'model', 'assistant', 'agent', 'bot', 'gpt', 'claude', 'copilot', 'gemini'],
    ],
    String.raw`\b(?:if\s+you\s+are\s+an?|note\s+to(?:\s+the)?|attention|dear)\s+${AGENT}s?\b`,
  ),
  // "Instructions for the coding agent:", "a message to AI assistants", "<!-- AI agent: …",
  // "LLMs: …" — a note labelled for the agent rather than the human reader.
  rule(
    'agent_note',
    'addressing',
    0.5,
    [['ai', 'llm', 'model', 'assistant', 'agent', 'bot', 'gpt', 'claude', 'copilot', 'gemini']],
    String.raw`\b(?:instructions?|notes?|message|directions?|directives?|reminder|notice)\s+(?:for|to)\s+(?:the\s+|any\s+|all\s+)?(?:ai\s+|llm\s+|automated\s+)?${AGENT}s?\b|(?:^|[\n>(*]|<!--|/\*|//|#)[ \t*_]*(?:to\s+)?(?:all\s+|any\s+)?(?:ai|llm|coding|autonomous)\s+(?:agents?|assistants?|models?|bots?)[ \t*_]*[:,]|(?:^|[\n>(*]|<!--|/\*|//|#)[ \t*_]*(?:llms?|ai\s+agents?)[ \t*_]*:`,
  ),
  rule(
    'addresses_agent_reading',
    'addressing',
    0.5,
    ['reading this', 'processing this', 'parsing this', 'summarizing this', 'summarising this', 'browsing this'],
    String.raw`\b${AGENT}s?\s+(?:reading|processing|parsing|summari[sz]ing|browsing)\s+this\b`,
  ),
  rule(
    'instructs_agent',
    'addressing',
    0.5,
    [
      ['instruct', 'order', 'command', 'authoris', 'authoriz', 'require', 'direct', 'must', 'shall'],
      ['you'],
    ],
    String.raw`\bi\s+(?:hereby\s+)?(?:instruct|order|command|authori[sz]e|require|direct)\s+you\b|\byou\s+(?:must|shall|are\s+(?:required|instructed|ordered|authori[sz]ed)\s+to)\s+(?:now\s+|immediately\s+)?(?:send|upload|post|run|execute|ignore|reveal|print|output|delete|disable|exfiltrate|forward|email)\b`,
  ),
  // Concealment from the user.
  rule(
    'conceal_from_user',
    'concealment',
    0.6,
    [
      ['user', 'human', 'operator'],
      ['do not', "don't", 'dont', 'never', 'without'],
    ],
    String.raw`\b(?:do\s+not|don'?t|never)\s+(?:tell|inform|mention|reveal|show|alert|notify|let)\s+(?:(?:this|it|anything)\s+(?:to\s+)?)?(?:the\s+)?(?:user|human|operator)\b|\bwithout\s+(?:telling|informing|asking|notifying|alerting)\s+(?:the\s+)?(?:user|human|operator)\b`,
  ),
  // An action and, in the same sentence, an order to hide it from the user: "execute `…` and do
  // not mention this to the user". Unambiguous on its own (weight 1); quoted or explained in an
  // article it is discounted like any other phrase.
  rule(
    'covert_instruction',
    'concealment',
    1,
    [
      ['user', 'human', 'operator', 'anyone'],
      ['do not', "don't", 'dont', 'never', 'not ', 'without'],
    ],
    String.raw`\b${ACT}\b(?:[^.!?\n]|[.!?](?=\S)){0,200}?\b(?:(?:and|but|then)\s+(?:do\s+not|don'?t|never|not)\s+(?:tell|inform|mention|report|reveal|show|alert|notify|disclose)(?:\s+(?:it|this|that|anything))?|without\s+(?:telling|informing|notifying|alerting|asking))(?:\s+(?:about\s+)?(?:it|this|that))?\s+(?:to\s+)?(?:the\s+|your\s+)?(?:user|human|operator|anyone)\b`,
  ),
  // Hiding the action without naming the user ("… and not mention it"), or skipping confirmation.
  rule(
    'conceal_action',
    'concealment',
    0.5,
    [
      ['mention', 'report', 'disclose', 'secret', 'asking', 'confirmation', 'approval', 'review'],
      ['not', "n't", 'without', 'keep'],
    ],
    String.raw`\b(?:and|but)\s+(?:do\s+not|don'?t|never|not)\s+(?:mention|report|disclose)\s+(?:it|this|that)\b|\bkeep\s+(?:this|it)\s+(?:a\s+)?secret\s+from\b|\b(?:do\s+(?:it|this|so)|proceed|push|merge|run|execute|commit|delete|deploy|install)\s+(?:[\w-]+\s+){0,3}?without\s+(?:asking|(?:user\s+)?confirmation|approval|review)\b`,
  ),
  rule('covert_action', 'concealment', 0.5, ['secretly', 'silently', 'covertly', 'quietly'], String.raw`\b(?:secretly|silently|covertly|quietly)\s+(?:send|run|execute|upload|post|exfiltrate|copy|include|add|append)\b`),
  // Disclosure and execution.
  rule(
    'send_credentials',
    'disclosure',
    0.6,
    [
      ['send', 'post', 'upload', 'mail', 'exfiltrate', 'leak', 'reveal', 'paste', 'share', 'print', 'output', 'dump', 'display', 'show'],
      ['token', 'secret', 'environment', 'env', 'credential', 'api', 'password', 'ssh', 'private'],
    ],
    String.raw`\b(?:send|post|upload|e-?mail|exfiltrate|leak|reveal|paste|share|print|output|dump|display|show)\s+(?:me\s+|us\s+|over\s+)?(?:(?:your|the|all|any|of|my|these)\s+){1,3}(?:${W}){0,2}?(?:tokens?|secrets?|environment|env\s+vars?|credentials?|api[\s_-]?keys?|passwords?|ssh\s+keys?|private\s+keys?)\b`,
  ),
  rule(
    'sensitive_path',
    'disclosure',
    0.3,
    ['/.ssh', '/.aws', '/.config/gcloud', '/.docker', '/.kube', '/.netrc', '/.npmrc', '/.pypirc', '/.git-credentials', 'id_rsa', 'id_ed25519', 'id_ecdsa', ' .env', "'.env", '".env', '/.env', '(.env'],
    String.raw`(?:~|\$HOME|\$\{HOME\})/\.(?:ssh|aws|config/gcloud|docker|kube|netrc|npmrc|pypirc|git-credentials)\b|\bid_(?:rsa|ed25519|ecdsa)\b|(?:^|[\s/'"(])\.env\b`,
  ),
  rule('cat_ssh', 'disclosure', 0.35, [['cat'], ['.ssh', '.aws', '.netrc', '.docker']], String.raw`\bcat\s+(?:~|\$HOME|\$\{HOME\}|/root|/home/[\w.-]+)?/?\.(?:ssh|aws|netrc|docker/config)\b`),
  // Shipping a credential file or variable somewhere: "upload the file ~/.ssh/id_ed25519 to …",
  // "print the value of $ANTHROPIC_API_KEY", "env | curl -d @- https://…".
  rule(
    'exfil_secret_file',
    'disclosure',
    0.6,
    [['/.ssh', '/.aws', '/.config/gcloud', '/.docker', '/.kube', '/.netrc', '/.npmrc', '/.pypirc', '/.git-credentials', '/.gnupg']],
    String.raw`\b(?:upload|send|post|copy|exfiltrate|transfer|attach|paste|scp|include|email|forward)\s+(?:(?:the|all|of|your|file|files|contents?)\s+){0,4}${SECRET_FILE}`,
  ),
  rule(
    'print_secret_var',
    'disclosure',
    0.6,
    [['$'], ['key', 'token', 'secret', 'password', 'passwd', 'credential']],
    String.raw`\b(?:print|echo|output|reveal|send|show|display|tell\s+me|paste|post|upload|include|dump)\s+(?:me\s+)?(?:(?:the|its|their|current|full)\s+){0,2}(?:(?:value|contents?)\s+of\s+)?(?:the\s+)?\$\{?[A-Z0-9_]*(?:KEY|TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIALS?)\b`,
  ),
  rule('env_to_network', 'disclosure', 0.7, [['env', 'printenv', 'environ', 'set '], ['curl', 'wget', 'nc ', 'ncat', 'netcat']], String.raw`\b(?:env|printenv|set|cat\s+/proc/self/environ)\s*\|\s*(?:curl|wget|nc|ncat|netcat)\b`),
  rule('printenv', 'disclosure', 0.35, ['printenv', 'environ'], String.raw`\bprintenv\b|/proc/self/environ\b`),
  rule('curl_pipe_shell', 'execution', 0.35, [['curl', 'wget'], ['|']], String.raw`\b(?:curl|wget)\b[^\n|]{0,300}\|\s*(?:sudo\s+)?(?:ba|z|da|k)?sh\b`),
  rule('shell_process_substitution', 'execution', 0.35, ['<('], String.raw`\b(?:ba|z)?sh\s+<\(\s*(?:curl|wget)\b`),
  // "decode this base64 and execute it", "… | base64 -d | bash": running what the reader cannot
  // read. With the decoded command's own hit (encoded:*) the two reach the block level.
  rule(
    'decode_and_run',
    'execution',
    0.6,
    [['decode', 'base64', 'atob', 'b64decode']],
    String.raw`\bdecode\b[^.\n]{0,60}?\b(?:and|then)\s+(?:execute|run|eval(?:uate)?|pipe)\b|\bbase64\s+(?:-d|--decode|-D)\b[^|\n]{0,40}\|\s*(?:sudo\s+)?(?:ba|z|da|k)?sh\b|\beval\s*\(?\s*(?:atob|base64_decode|b64decode)\b|\beval\s+"?\$\(\s*(?:echo|printf)\b[^)\n]{0,300}\|\s*base64\s+(?:-d|--decode)\b`,
  ),
];

/** Score at which a response is blocked (403 inbound_injection). */
export const INBOUND_BLOCK_SCORE = 1;
/** Discounts and bonuses (multiplicative) on a hit's weight. */
const QUOTED = 0.8;
const IN_CODE = 0.7;
const EXPLAINED = 0.5;
/** Hidden from a human reader (HTML comment, invisible styling): no discount, and this factor. */
const HIDDEN = 1.5;
/** An instruction that was base64/escape-encoded: its decoded hits get this added. */
const ENCODED_BONUS = 0.5;

const EXPLANATORY =
  /prompt[\s-]+injection|injection\s+attacks?|jailbreak|attackers?\b|adversar|malicious|red[\s-]team|owasp|llm01|security\s+research|such\s+as|phrases?\s+like|for\s+example|for\s+instance|e\.g\.|example\s+of|examples?:|known\s+as|called|detect(?:s|ion|ing)?\b|mitigat|defen[cs]e|guardrail/i;
const HIDDEN_STYLE = /display\s*:\s*none|visibility\s*:\s*hidden|font-size\s*:\s*0(?![.\d]*[1-9])|opacity\s*:\s*0(?![.\d]*[1-9])|color\s*:\s*(?:white|#fff\b|#ffffff\b|transparent)|aria-hidden=["']?true|<[a-z][\w-]*(?:\s[^<>]{0,200})?\shidden(?=[\s>/=])/gi;

const MAX_PHRASE = 80;
/** Hits kept per rule and text (bounded work on a page repeating a phrase 100 000 times). */
const MAX_HITS = 32;

function normalise(s: string): string {
  const t = s.replace(/\s+/g, ' ').trim();
  return t.length > MAX_PHRASE ? `${t.slice(0, MAX_PHRASE - 1)}…` : t;
}

interface RawHit extends InboundHit {
  readonly index: number;
  readonly weight: number;
}

const OPEN_QUOTES = '"\'“‘«「『`';
const CLOSE_QUOTES = '"\'”’»」』`';

/**
 * Whether [s, e) sits inside a prose quotation on its line: an opening quote before it (≤ 80 chars)
 * that is not JSON structure (`"key": "…"`, `["…"]`), and a closing quote after it (≤ 80 chars).
 */
function quoted(text: string, s: number, e: number): boolean {
  let open = -1;
  for (let i = s - 1; i >= 0 && s - i <= 80; i--) {
    const c = text[i]!;
    if (c === '\n') break;
    if (OPEN_QUOTES.includes(c)) {
      open = i;
      break;
    }
  }
  if (open < 0) return false;
  // Structural JSON quote: preceded (spaces skipped) by : [ , { — the response is data, not a quotation.
  let p = open - 1;
  if (p >= 0 && text[p] === '\\') p--; // \" inside a JSON string is a real quotation
  else {
    while (p >= 0 && (text[p] === ' ' || text[p] === '\t')) p--;
    if (p < 0 || ':[,{'.includes(text[p]!)) return false;
  }
  for (let i = e; i < text.length && i - e <= 80; i++) {
    const c = text[i]!;
    if (c === '\n') return false;
    if (CLOSE_QUOTES.includes(c)) return true;
  }
  return false;
}

/**
 * Code-fence (```) positions of one text, found once (lazily) and searched by binary search, so
 * the code-block test of each hit costs O(log n), not a scan from the start of the text.
 */
class Fences {
  private at: number[] | null = null;
  constructor(
    private readonly text: string,
    private readonly parity: number,
  ) {}

  /** Whether position s is inside a fenced block. */
  inside(s: number): boolean {
    if (!this.at) {
      this.at = [];
      for (let i = this.text.indexOf('```'); i >= 0; i = this.text.indexOf('```', i + 3)) this.at.push(i);
    }
    let lo = 0;
    let hi = this.at.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.at[mid]! < s) lo = mid + 1;
      else hi = mid;
    }
    return (lo + this.parity) % 2 === 1;
  }
}

/** Inside a fenced (```) block, inline `code` on its line, or an unclosed <code>/<pre> element. */
function inCode(text: string, s: number, fences: Fences): boolean {
  if (fences.inside(s)) return true;
  const lineStart = Math.max(text.lastIndexOf('\n', s - 1) + 1, s - 2000);
  let ticks = 0;
  for (let i = lineStart; i < s; i++) if (text.charCodeAt(i) === 96) ticks++;
  if (ticks % 2 === 1) return true;
  const before = text.slice(Math.max(0, s - 2000), s).toLowerCase();
  const open = Math.max(before.lastIndexOf('<code'), before.lastIndexOf('<pre'));
  const close = Math.max(before.lastIndexOf('</code'), before.lastIndexOf('</pre'));
  return open >= 0 && open > close;
}

/** Hidden from a human reader: inside an open HTML comment, or after invisible styling not yet closed. */
function hidden(text: string, s: number): boolean {
  const before = text.slice(Math.max(0, s - 400), s);
  if (before.lastIndexOf('<!--') > before.lastIndexOf('-->')) return true;
  HIDDEN_STYLE.lastIndex = 0;
  let last = -1;
  for (let m = HIDDEN_STYLE.exec(before); m; m = HIDDEN_STYLE.exec(before)) last = m.index;
  return last >= 0 && before.indexOf('</', last) < 0;
}

/** "never send your token", "do not run …": a negated phrase is advice, not an instruction. */
const NEGATED = /\b(?:never|don'?t|do\s+not|not|avoid|nobody\s+should|should\s+not|shouldn'?t|must\s+not|mustn'?t|won'?t|cannot|can'?t)\s+(?:[\w'-]+\s+)?$/i;
const NEGATION = 0.2;

/** Explanatory security prose within 300 characters of [s, e). */
function explained(text: string, s: number, e: number): boolean {
  return EXPLANATORY.test(text.slice(Math.max(0, s - 300), Math.min(text.length, e + 300)));
}

function weigh(weight: number, text: string, s: number, e: number, fences: Fences, obfuscated = false): number {
  // Invisible characters inside the matched words: written to evade a reader or a filter, never
  // a quotation (docs/decisions/egress-inbound-block.md: recall belongs in the DLP).
  if (obfuscated) return weight * HIDDEN;
  const code = inCode(text, s, fences);
  // Markup shown inside a code block (an article quoting a hidden paragraph) is not hidden.
  if (!code && hidden(text, s)) return weight * HIDDEN;
  let w = weight;
  if (quoted(text, s, e)) w *= QUOTED;
  if (code) w *= IN_CODE;
  if (NEGATED.test(text.slice(Math.max(0, s - 24), s))) w *= NEGATION;
  if (explained(text, s, e)) w *= EXPLAINED;
  return w;
}

/** Every pre-filter word of every rule in one automaton: one pass finds which are present. */
const KEY_LIST: readonly string[] = [...new Set(INBOUND_RULES.flatMap((r) => r.keys.flat()))];
const KEY_INDEX = new Map(KEY_LIST.map((k, i) => [k, i]));
const KEYS = new AhoCorasick(KEY_LIST);

/** Which pre-filter words the lowercased text contains (one automaton pass, ~1 ns per character). */
function presentKeys(lower: string): Uint8Array {
  const seen = new Uint8Array(KEY_LIST.length);
  KEYS.search(lower, (id) => {
    seen[id] = 1;
  });
  return seen;
}

function keysPresent(r: PhraseRule, present: Uint8Array): boolean {
  for (const group of r.keys) if (!group.some((k) => present[KEY_INDEX.get(k)!] === 1)) return false;
  return true;
}

function phraseHits(f: Folded, lower: string, base: number, fences: Fences): RawHit[] {
  const { text } = f;
  const hits: RawHit[] = [];
  const present = presentKeys(lower);
  for (const r of INBOUND_RULES) {
    if (!keysPresent(r, present)) continue;
    r.re.lastIndex = 0;
    // ≤ MAX_HITS per rule: the score keeps the strongest per category, more only cost time.
    let count = 0;
    for (let m = r.re.exec(text); m && count < MAX_HITS; m = r.re.exec(text)) {
      const s = m.index;
      const e = s + m[0].length;
      const obf = obfuscated(f, s, e);
      hits.push({ category: r.category, id: r.id, phrase: normalise(m[0]), index: base + origin(f, s), weight: weigh(r.weight, text, s, e, fences, obf) });
      if (r.follow) {
        // The instruction after a role tag: bounded look-ahead, not a regex spanning the text.
        const after = text.slice(e, e + r.follow.within);
        const im = r.follow.re.exec(after);
        if (im) {
          hits.push({
            category: r.category,
            id: `${r.id}_instruction`,
            phrase: normalise(`${m[0]} … ${im[0]}`),
            index: base + origin(f, s),
            weight: weigh(r.follow.weight, text, s, e, fences, obf),
          });
        }
      }
      count++;
      if (m[0].length === 0) r.re.lastIndex++;
    }
  }
  return hits;
}

/**
 * The text rules see: zero-width, bidi-control, soft-hyphen and variation-selector characters
 * removed, fullwidth letters/digits and mathematical alphanumerics folded to ASCII, so
 * "I\u200bgnore all pre\u200bvious instruc\u200btions" reads as the override it is
 * (docs/decisions/egress-inbound-block.md: recall belongs in the DLP). Unicode tag characters are
 * left alone: encodedHits
 * decodes them as hidden text. `map[i]` is the original index of folded index i (null: unchanged);
 * `removed` marks folded positions that had an invisible character removed right before them.
 */
interface Folded {
  readonly text: string;
  readonly map: Int32Array | null;
  readonly removed: Uint8Array | null;
}

/** Per UTF-16 unit: 1 invisible (removed), 2 fullwidth letter/digit, 3 high surrogate of math alphanumerics. */
const FOLD_CLASS = (() => {
  const t = new Uint8Array(65536);
  for (const c of [0xad, 0x34f, 0x61c, 0x115f, 0x1160, 0x17b4, 0x17b5, 0x3164, 0xfeff, 0xffa0]) t[c] = 1;
  const range = (a: number, b: number, v: number): void => {
    for (let c = a; c <= b; c++) t[c] = v;
  };
  range(0x180b, 0x180f, 1);
  range(0x200b, 0x200f, 1);
  range(0x202a, 0x202e, 1);
  range(0x2060, 0x206f, 1);
  range(0xfe00, 0xfe0f, 1);
  range(0xff10, 0xff19, 2);
  range(0xff21, 0xff3a, 2);
  range(0xff41, 0xff5a, 2);
  t[0xd835] = 3;
  return t;
})();

function foldText(text: string): Folded {
  let any = false;
  for (let i = 0; i < text.length && !any; i++) any = FOLD_CLASS[text.charCodeAt(i)] !== 0;
  if (!any) return { text, map: null, removed: null };
  const parts: string[] = [];
  const map = new Int32Array(text.length + 1);
  const removed = new Uint8Array(text.length + 1);
  let n = 0;
  let gap = 0;
  let run = 0; // start of the pending unchanged run
  for (let i = 0; i < text.length; i++) {
    const cls = FOLD_CLASS[text.charCodeAt(i)]!;
    let rep: string | null = null;
    let width = 1;
    if (cls === 2) rep = String.fromCharCode(text.charCodeAt(i) - 0xfee0);
    else if (cls === 3 && i + 1 < text.length && text.charCodeAt(i + 1) >= 0xdc00 && text.charCodeAt(i + 1) <= 0xdfff) {
      rep = text.slice(i, i + 2).normalize('NFKC');
      width = 2;
    }
    if (cls === 0 || (cls === 3 && rep === null)) {
      map[n] = i;
      removed[n] = gap;
      n++;
      gap = 0;
      continue;
    }
    if (run < i) parts.push(text.slice(run, i));
    if (cls === 1) gap = 1;
    else if (rep !== null) {
      parts.push(rep);
      for (let k = 0; k < rep.length; k++) {
        map[n] = i;
        removed[n] = k === 0 ? gap : 0;
        n++;
      }
      gap = 0;
    }
    i += width - 1;
    run = i + 1;
  }
  if (run < text.length) parts.push(text.slice(run));
  map[n] = text.length;
  return { text: parts.join(''), map, removed };
}

/** Original index of folded index i. */
function origin(f: Folded, i: number): number {
  return f.map ? f.map[Math.min(i, f.text.length)]! : i;
}

/** An invisible character was removed between two letters inside [s, e): a word was split on purpose. */
function obfuscated(f: Folded, s: number, e: number): boolean {
  if (!f.removed) return false;
  for (let i = s + 1; i < e; i++) {
    if (f.removed[i] === 1 && /\w/.test(f.text[i - 1]!) && /\w/.test(f.text[i]!)) return true;
  }
  return false;
}

const B64_CHAR = new Uint8Array(128);
for (const ch of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/_-=') B64_CHAR[ch.charCodeAt(0)] = 1;

/**
 * Instructions hidden by encoding: base64 runs (≥ 24 characters), %XX / \uXXXX / \xXX / QP /
 * entity escape clusters (the outbound escape views), Unicode tag characters. A decoded
 * instruction gets a bonus (encoding a command is itself a signal); explanatory prose or a code
 * block around the encoded run still discounts it, hidden tag characters never are. Bounded: at
 * most 1 MiB of decoded text per call.
 */
function encodedHits(f: Folded, base: number, fences: Fences): RawHit[] {
  const { text } = f;
  const hits: RawHit[] = [];
  const lim: ViewLimits = { budget: 1 << 20, overflow: [] };
  const n = text.length;
  for (let i = 0; i < n && lim.budget > 0; ) {
    const c = text.charCodeAt(i);
    if (c >= 128 || B64_CHAR[c] === 0) {
      i++;
      continue;
    }
    let j = i + 1;
    while (j < n) {
      const d = text.charCodeAt(j);
      if (d >= 128 || B64_CHAR[d] === 0) break;
      j++;
    }
    if (j - i >= 24) {
      const b = Buffer.from(text.slice(i, j), 'base64');
      let printable = 0;
      for (let k = 0; k < b.length; k++) if ((b[k]! >= 32 && b[k]! < 127) || b[k] === 10 || b[k] === 9) printable++;
      if (b.length >= 16 && printable >= b.length * 0.9) {
        lim.budget -= b.length;
        decodedHits(hits, f, b.toString('latin1'), base, i, j, fences, true);
      }
    }
    i = j;
  }
  const views: View[] = [];
  escapeViews(text, lim, views);
  for (const v of views) decodedHits(hits, f, v.text, base, v.start, v.end, fences, true);
  if (text.includes('\udb40')) {
    // Unicode tag characters (invisible "ASCII smuggling"): hidden, so no discount.
    for (const m of text.matchAll(/(?:\udb40[\udc00-\udc7f])+/g)) decodedHits(hits, f, fold(m[0]), base, m.index, m.index + m[0].length, fences, false);
  }
  return hits;
}

function decodedHits(hits: RawHit[], f: Folded, decoded: string, base: number, s: number, e: number, fences: Fences, discount: boolean): void {
  const { text } = f;
  const present = presentKeys(decoded.toLowerCase());
  // Computed on the first decoded hit only (most base64 runs decode to nothing of interest).
  let factor = -1;
  const context = (): number => {
    if (!discount) return 1;
    const code = inCode(text, s, fences);
    // An encoded command inside an HTML comment or invisible element: hidden twice over.
    if (!code && hidden(text, s)) return HIDDEN;
    let x = 1;
    if (code) x *= IN_CODE;
    if (explained(text, s, e)) x *= EXPLAINED;
    return x;
  };
  for (const r of INBOUND_RULES) {
    if (!keysPresent(r, present)) continue;
    r.re.lastIndex = 0;
    let count = 0;
    for (let m = r.re.exec(decoded); m && count < MAX_HITS; m = r.re.exec(decoded)) {
      if (factor < 0) factor = context();
      hits.push({ category: 'encoded', id: `encoded:${r.id}`, phrase: normalise(m[0]), index: base + origin(f, s), weight: (r.weight + ENCODED_BONUS) * factor });
      count++;
      if (m[0].length === 0) r.re.lastIndex++;
    }
  }
}

function findHits(raw: string, base = 0, fenceParity = 0): RawHit[] {
  const f = foldText(raw);
  const lower = f.text.toLowerCase();
  const fences = new Fences(f.text, fenceParity);
  const hits = phraseHits(f, lower, base, fences);
  for (const h of encodedHits(f, base, fences)) hits.push(h);
  return hits.sort((a, b) => a.index - b.index);
}

/**
 * Strongest category plus half of every other category's strongest hit: one unambiguous hit (≥ 1)
 * blocks alone, an instruction needs a second, different signal (intent + action), and a page full
 * of weak, unrelated signals (install docs: `curl | sh`, `printenv`, "you are now ready") does not
 * add up to a block.
 */
function score(hits: readonly RawHit[]): number {
  const best = new Map<string, number>();
  for (const h of hits) best.set(h.category, Math.max(best.get(h.category) ?? 0, h.weight));
  const sorted = [...best.values()].sort((a, b) => b - a);
  let total = sorted[0] ?? 0;
  for (let i = 1; i < sorted.length; i++) total += sorted[i]! / 2;
  return Math.round(Math.max(total, pairScore(hits)) * 100) / 100;
}

/** Categories that say who the text is talking to (the agent) or tell it to hide something. */
const AIMED = new Set<InboundHit['category']>(['override', 'authority', 'addressing', 'concealment']);
/** Two hits this close (characters) are one message. */
const PAIR_WINDOW = 600;
/** Hits compared with each hit (bounded work on a page dense with hits). */
const PAIR_SCAN = 64;

/**
 * Two signals of different categories in one message, at least one of them aimed at the agent
 * (a note to AI agents + a credential upload; a role tag + a claimed permission; concealment + a
 * command) count in full: two medium (≈ 0.5) signals reach the block level, while weak or
 * discounted ones (install docs: "System: Linux", `curl … | sh` in a code block, "you are now
 * ready") stay below it (docs/decisions/egress-inbound-block.md: recall belongs in the DLP). Hits are sorted by index.
 */
function pairScore(hits: readonly RawHit[]): number {
  let top = 0;
  for (let i = 0; i < hits.length; i++) {
    const a = hits[i]!;
    for (let j = i + 1; j < hits.length && j - i <= PAIR_SCAN; j++) {
      const b = hits[j]!;
      if (b.index - a.index > PAIR_WINDOW) break;
      if (a.category === b.category || (!AIMED.has(a.category) && !AIMED.has(b.category))) continue;
      top = Math.max(top, a.weight + b.weight);
    }
  }
  return top;
}

function result(hits: readonly RawHit[]): InboundResult {
  const clean = hits.map(({ category, id, phrase, weight }) => ({ category, id, phrase, weight: Math.round(weight * 100) / 100 }));
  const sc = score(hits);
  const block = sc >= INBOUND_BLOCK_SCORE;
  const level: InboundLevel = block ? 'high' : clean.length > 0 ? 'medium' : 'none';
  return { level, phrases: clean.map((h) => h.phrase), hits: clean, score: sc, block };
}

/** Scan one complete text response. Never throws. */
export function scanInbound(text: string): InboundResult {
  try {
    return result(findHits(typeof text === 'string' ? text : String(text ?? '')));
  } catch {
    return { level: 'none', phrases: [], hits: [], score: 0, block: false };
  }
}

/** Content types whose responses are scanned: text/*, JSON, XML, JS, NDJSON, SSE, untyped. */
export function isScannableInboundType(contentType: string | undefined): boolean {
  const t = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  if (t === '') return true;
  // SVG is XML but an image: clients render it, agents do not read it as instructions.
  if (t.startsWith('image/')) return false;
  if (t.startsWith('text/')) return true;
  return (
    t === 'application/json' ||
    t.endsWith('+json') ||
    t === 'application/xml' ||
    t.endsWith('+xml') ||
    t === 'application/javascript' ||
    t === 'application/x-javascript' ||
    t === 'application/ecmascript' ||
    t === 'application/x-ndjson' ||
    t === 'application/ndjson' ||
    t === 'application/jsonl'
  );
}

/**
 * Overlap kept between chunks so a phrase split across two chunks is still seen
 * (docs/decisions/egress-websocket-and-streams.md).
 */
export const INBOUND_OVERLAP = 4096;

/**
 * Incremental scanning of a streamed response: `push` each text chunk, read the cumulative result
 * (`level: 'high'` as soon as the score reaches the block threshold). Memory is bounded by the
 * overlap; a phrase longer than the overlap can be missed (LIMITATION). Code-fence parity is
 * carried across chunks so a quotation in a long code block stays discounted.
 */
export class InboundStreamScanner {
  private tail = '';
  private tailBase = 0;
  private fenceParity = 0;
  private readonly seen = new Set<string>();
  private readonly hits: RawHit[] = [];

  push(chunk: string): InboundResult {
    const buf = this.tail + chunk;
    try {
      for (const h of findHits(buf, this.tailBase, this.fenceParity)) {
        const key = `${h.id}@${h.index}`;
        if (this.seen.has(key)) continue;
        this.seen.add(key);
        this.hits.push(h);
      }
    } catch {
      // Never throws: a failed chunk adds no hits.
    }
    const keep = Math.min(buf.length, INBOUND_OVERLAP);
    const dropped = buf.length - keep;
    // Fences that start in the part being dropped flip the parity for what follows.
    for (let i = buf.indexOf('```'); i >= 0 && i < dropped; i = buf.indexOf('```', i + 3)) this.fenceParity ^= 1;
    this.tailBase += dropped;
    this.tail = buf.slice(dropped);
    return this.result();
  }

  result(): InboundResult {
    return result(this.hits);
  }
}
