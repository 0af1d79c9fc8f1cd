/* One pass over a batch of text-layout lines: the split plan of ledger/formats (cut at the double quotes,
 * small anchored patterns for the unquoted pieces) run as a tiny program instead of polars expressions,
 * plus the Apache/nginx time (%d/%b/%Y:%H:%M:%S %z) read into UTC microseconds.
 *
 * It only ever says "ok" for a line when the first choice at every step of the plan's regexes matches
 * (greedy repeats, first alternative): then the regexes capture exactly the same text. Anything it is
 * not sure of (a non-ASCII byte in an unquoted piece, a backslash before a quote outside the quoted
 * values, an unusual timestamp) is
 * "not ok" and goes to the full regex in Python, which decides. Fields come out as Arrow string views
 * (values up to 12 bytes inline), over the line data itself or over a packed buffer of their own.
 *
 * split(strings, program, quotes, nfields, time_field, triage=None, outputs=all, loose=0, unsettled=0)
 *   -> (ok: bytearray[n], ts: bytearray[8n] int64, views: [bytearray[16n]] per output field,
 *       buffers: [bytearray, or None for the lines' own data buffers] per output field)
 *   with unsettled (and a triage), followed by (rows: bytearray[4r] int32, views: [bytearray[16r]] per
 *   field, buffers: [..] per field, clean: bytearray[r]): every field of the r lines the triage does not
 *   settle (not bit 2 or 3 below), in line order, so that those lines need no second pass (empty views
 *   where not taken), and 1 in clean for those taken with no backslash and a bare address in the client
 *   field (see bare_address; the typing's plain lines, but their requests).
 * outputs: the capture indices whose views are written (bytes), by default every field.
 * ok: bit 0 when the line was taken, bit 1 when the triage's tests (see quiet_candidate) pass on it, bit 2
 *   when they do and its user agent is one of the known people's, bit 3 when they do and it is one of the
 *   known other bots' or there is none ("-" or empty), bit 4 when they do and it is a known declared bot's
 *   (not settled: its lines take the full path, but need no lookup to be told so).
 * triage: (range starts, ends as (high, low) uint64 pairs, needles, client, referer, agent, host, forwarded
 *   [, known user agents end to end, where each starts as count + 1 int64 offsets, the kind of each as
 *   one byte: 1 a person's, 2 another bot's, 3 a declared bot's[, agent_index's slots for them]]).
 * strings: the lines as an Arrow string-view array, read in place (see strings_from): polars' own layout,
 *   so no copy of the batch is made to call this.
 * program: 3-byte ops, one run per quote-split segment, each run ended by OP_END:
 *   OP_LIT c 0        the byte c
 *   OP_VAL class cap  a value of the class (cap: field index + 1, 0 for none)
 *   OP_TRAIL 0 0      (?:\s.*)?$ : the end, or whitespace and anything up to the end
 *   OP_QUOTED cap 0   an odd segment: everything between two quotes
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

enum { OP_LIT = 1, OP_VAL = 2, OP_TRAIL = 3, OP_END = 4, OP_QUOTED = 5 };
enum {
    C_NONSPACE_PLUS = 1,   /* \S+ */
    C_NONSPACE_STAR,       /* \S* */
    C_NOT_RBRACKET_PLUS,   /* [^\]]+ */
    C_DIGIT3,              /* \d{3} */
    C_DIGITS_OR_DASH,      /* \d+|- */
    C_DIGITS_PLUS,         /* \d+ */
    C_ALPHA_OR_DASH,       /* [A-Za-z]+|- */
    C_HOST,                /* [^\s:"]+(?::\d+)? */
    C_DECIMAL_OR_DASH,     /* [\d.]+|- */
    C_XCHAR,               /* [-+X] */
    C_EPOCH,               /* \d+(?:\.\d+)? */
    C_NOT_SPACE_QUOTE_PLUS, /* [^\s"]+ */
    C_CHAIN                 /* [^\s,]+(?:,\s*[^\s,]+)* taken greedily: the whole chain */
};

#define MAX_FIELDS 32
#define MAX_SEGMENTS 64

static inline int is_space(unsigned char c) { return c == ' ' || (c >= '\t' && c <= '\r'); }
static inline int is_digit(unsigned char c) { return c >= '0' && c <= '9'; }
static inline int is_alpha(unsigned char c) { return (c | 0x20) >= 'a' && (c | 0x20) <= 'z'; }

/* Greedy run of bytes in a class from p; -1 when a non-ASCII byte is met (the caller gives up). */
#define RUN(cond)                                         \
    do {                                                  \
        while (p < end && !(*p & 0x80) && (cond)) p++;    \
        if (p < end && (*p & 0x80)) return NULL;          \
    } while (0)

/* p moved over the 16-byte chunks whose bytes are all ASCII, not whitespace (when `spaces` stop the run)
 * and neither stop1 nor stop2 (0: none): only bytes the byte-at-a-time RUN would also take, which then
 * finishes the run (and gives up at a non-ASCII byte). */
static inline const unsigned char *skip_run(const unsigned char *p, const unsigned char *end, int spaces, int stop1,
                                            int stop2) {
#ifdef __SSE2__
    const __m128i tab = _mm_set1_epi8('\t'), four = _mm_set1_epi8(4), space = _mm_set1_epi8(' ');
    const __m128i one = _mm_set1_epi8((char)stop1), two = _mm_set1_epi8((char)stop2);
    while (end - p >= 16) {
        __m128i chunk = _mm_loadu_si128((const __m128i *)p), stops = _mm_setzero_si128();
        if (spaces) { /* ' ', and \t..\r: chunk - '\t' is at most 4 (unsigned) */
            __m128i from_tab = _mm_sub_epi8(chunk, tab);
            stops = _mm_or_si128(_mm_cmpeq_epi8(chunk, space),
                                 _mm_cmpeq_epi8(_mm_min_epu8(from_tab, four), from_tab));
        }
        if (stop1) stops = _mm_or_si128(stops, _mm_cmpeq_epi8(chunk, one));
        if (stop2) stops = _mm_or_si128(stops, _mm_cmpeq_epi8(chunk, two));
        unsigned mask = (unsigned)(_mm_movemask_epi8(stops) | _mm_movemask_epi8(chunk)); /* high bit: non-ASCII */
        if (mask) return p + __builtin_ctz(mask);
        p += 16;
    }
#else
    (void)end, (void)spaces, (void)stop1, (void)stop2;
#endif
    return p;
}

/* The end of a value of `cls` starting at p, or NULL when none starts there. */
static const unsigned char *match_class(int cls, const unsigned char *p, const unsigned char *end) {
    const unsigned char *start = p;
    switch (cls) {
    case C_NONSPACE_PLUS:
        p = skip_run(p, end, 1, 0, 0);
        RUN(!is_space(*p));
        return p > start ? p : NULL;
    case C_NONSPACE_STAR:
        p = skip_run(p, end, 1, 0, 0);
        RUN(!is_space(*p));
        return p;
    case C_NOT_RBRACKET_PLUS:
        p = skip_run(p, end, 0, ']', 0);
        RUN(*p != ']');
        return p > start ? p : NULL;
    case C_DIGIT3:
        if (end - p >= 3 && is_digit(p[0]) && is_digit(p[1]) && is_digit(p[2])) return p + 3;
        return NULL;
    case C_DIGITS_OR_DASH:
        RUN(is_digit(*p));
        if (p > start) return p;
        return (p < end && *p == '-') ? p + 1 : NULL;
    case C_DIGITS_PLUS:
        RUN(is_digit(*p));
        return p > start ? p : NULL;
    case C_ALPHA_OR_DASH:
        RUN(is_alpha(*p));
        if (p > start) return p;
        return (p < end && *p == '-') ? p + 1 : NULL;
    case C_HOST:
        p = skip_run(p, end, 1, ':', '"');
        RUN(!is_space(*p) && *p != ':' && *p != '"');
        if (p == start) return NULL;
        if (p < end && *p == ':') {
            const unsigned char *colon = p++;
            const unsigned char *digits = p;
            RUN(is_digit(*p));
            if (p == digits) return colon; /* the optional port is not there: the host ends at the colon */
        }
        return p;
    case C_DECIMAL_OR_DASH:
        RUN(is_digit(*p) || *p == '.');
        if (p > start) return p;
        return (p < end && *p == '-') ? p + 1 : NULL;
    case C_XCHAR:
        return (p < end && (*p == '-' || *p == '+' || *p == 'X')) ? p + 1 : NULL;
    case C_EPOCH:
        RUN(is_digit(*p));
        if (p == start) return NULL;
        if (p < end && *p == '.') {
            const unsigned char *dot = p++;
            const unsigned char *digits = p;
            RUN(is_digit(*p));
            if (p == digits) return dot;
        }
        return p;
    case C_NOT_SPACE_QUOTE_PLUS:
        p = skip_run(p, end, 1, '"', 0);
        RUN(!is_space(*p) && *p != '"');
        return p > start ? p : NULL;
    case C_CHAIN:
        for (;;) { /* an element; after a comma (and blanks), another, which must be there */
            const unsigned char *element = p;
            p = skip_run(p, end, 1, ',', 0);
            RUN(!is_space(*p) && *p != ',');
            if (p == element) return NULL; /* an empty element: the full regex reads it its own way */
            if (p == end || *p != ',') return p;
            for (p++; p < end && is_space(*p); p++) {
            }
        }
    }
    return NULL;
}

static const char MONTHS[] = "JanFebMarAprMayJunJulAugSepOctNovDec";

static int64_t days_from_civil(int64_t y, int m, int d) {
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const int64_t yoe = y - era * 400;
    const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static inline int two(const unsigned char *p) {
    return (is_digit(p[0]) && is_digit(p[1])) ? (p[0] - '0') * 10 + (p[1] - '0') : -1;
}

/* Whether a time (seconds since the epoch, UTC) is one a ledger holds: 1970-01-01 to 9998-12-31
 * (ledger/period.py). Outside them the line takes the typed path, which rejects it with its reason. */
static inline int held(int64_t seconds) { return seconds >= 0 && seconds < 253370764800; }

/* "10/Oct/2000:13:55:36 -0700" exactly, with a real date and an offset under a day; UTC microseconds. */
static int parse_clf(const unsigned char *p, Py_ssize_t len, int64_t *out) {
    if (len != 26 || p[2] != '/' || p[6] != '/' || p[11] != ':' || p[14] != ':' || p[17] != ':' || p[20] != ' ')
        return 0;
    int day = two(p), hour = two(p + 12), minute = two(p + 15), second = two(p + 18);
    int y1 = two(p + 7), y2 = two(p + 9), oh = two(p + 22), om = two(p + 24);
    if (day < 1 || hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0 || second > 59 || y1 < 19
        || y2 < 0 || oh < 0 || oh > 23 || om < 0 || om > 59 || (p[21] != '+' && p[21] != '-'))
        return 0;
    int month = 0;
    for (int m = 0; m < 12 && !month; m++)
        if (p[3] == MONTHS[3 * m] && p[4] == MONTHS[3 * m + 1] && p[5] == MONTHS[3 * m + 2]) month = m + 1;
    if (!month) return 0;
    int year = y1 * 100 + y2;
    static const int DAYS[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    if (day > DAYS[month - 1] + (month == 2 && leap)) return 0;
    int64_t offset = (int64_t)(oh * 60 + om) * 60 * (p[21] == '-' ? -1 : 1);
    int64_t seconds = days_from_civil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second - offset;
    if (!held(seconds)) return 0;
    *out = seconds * 1000000;
    return 1;
}

/* A W3C date "YYYY-MM-DD" (year 1000 to 9999, a real day) and time "HH:MM:SS" with up to six fraction
 * digits, exactly as that: the microseconds since the epoch they name, before any offset. */
static int parse_w3c(const unsigned char *d, Py_ssize_t dlen, const unsigned char *t, Py_ssize_t tlen, int64_t *out) {
    if (dlen != 10 || d[4] != '-' || d[7] != '-' || tlen < 8 || t[2] != ':' || t[5] != ':') return 0;
    int y1 = two(d), y2 = two(d + 2), month = two(d + 5), day = two(d + 8);
    int hour = two(t), minute = two(t + 3), second = two(t + 6);
    if (y1 < 10 || y2 < 0 || month < 1 || month > 12 || day < 1 || hour < 0 || hour > 23 || minute < 0
        || minute > 59 || second < 0 || second > 59)
        return 0;
    int64_t micros = 0;
    if (tlen > 8) { /* a fraction: a dot and one to six digits */
        if (t[8] != '.' || tlen == 9 || tlen > 15) return 0;
        int64_t scale = 100000;
        for (Py_ssize_t k = 9; k < tlen; k++, scale /= 10) {
            if (!is_digit(t[k])) return 0;
            micros += (t[k] - '0') * scale;
        }
    }
    int year = y1 * 100 + y2;
    static const int DAYS[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    if (day > DAYS[month - 1] + (month == 2 && leap)) return 0;
    *out = (days_from_civil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second) * 1000000 + micros;
    return 1;
}

typedef struct {
    const unsigned char *start;
    Py_ssize_t len;
} Span;

/* What one pass over a line found besides its quotes, for the triage's tests. */
typedef struct {
    int backslash;    /* a backslash anywhere */
    int underscore_s; /* "_s" anywhere: without it, no "utm_source=" either */
} Marks;

/* What a quote at `at`, preceded by a backslash, is with `found` cuts made: inside a quoted value (an odd
 * number of cuts, fewer than `quotes`) 1 when escaped (not a cut) and 0 when not; anywhere else -1 (the
 * line goes to the regex). The regex's (?:[^"\\]|\\.)* pairs a value's backslashes from its start, so an
 * odd run of them right before the quote takes it in; the run stops at the value's opening quote at the
 * latest. */
static inline int escape_at(const unsigned char *at, int found, int quotes) {
    if (!(found & 1 && found < quotes)) return -1;
    const unsigned char *p = at;
    while (p[-1] == '\\') p--;
    return (at - p) & 1;
}

/* The first `quotes` double quotes of a line into cuts, and its marks, in one pass (16 bytes at a time
 * where SSE2 is there); the number of quotes found up to `quotes`, or -1 when a backslash precedes a
 * quote outside the quoted values (inside one, an escaped quote is part of it, as the regex reads it).
 * `readable` (at least len) is how many bytes from the line's start may be read: a line inside a block is
 * followed by others, so its last chunk is read whole and the bytes past its end are masked out. */
static int scan_line(const unsigned char *line, Py_ssize_t len, Py_ssize_t readable, int quotes,
                     const unsigned char **cuts, Marks *marks) {
    int found = 0;
    unsigned backslashes = 0, pairs = 0;
    Py_ssize_t i = 0;
#ifdef __SSE2__
    const __m128i quote = _mm_set1_epi8('"'), backslash = _mm_set1_epi8('\\');
    const __m128i underscore = _mm_set1_epi8('_'), s = _mm_set1_epi8('s');
    for (; i < len && i + 17 <= readable; i += 16) { /* the next byte is read too, for "_s" across chunks */
        __m128i chunk = _mm_loadu_si128((const __m128i *)(line + i));
        __m128i next = _mm_loadu_si128((const __m128i *)(line + i + 1));
        Py_ssize_t left = len - i; /* bytes of the line from here; pairs must start before its last byte */
        unsigned in_line = left >= 16 ? 0xFFFFu : (1u << left) - 1;
        unsigned pair_starts = left >= 17 ? 0xFFFFu : (1u << (left - 1)) - 1;
        unsigned found_quotes = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(chunk, quote)) & in_line;
        backslashes |= (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(chunk, backslash)) & in_line;
        pairs |= (unsigned)_mm_movemask_epi8(_mm_and_si128(_mm_cmpeq_epi8(chunk, underscore), _mm_cmpeq_epi8(next, s)))
                 & pair_starts;
        for (; found_quotes; found_quotes &= found_quotes - 1) {
            const unsigned char *at = line + i + __builtin_ctz(found_quotes);
            if (at > line && at[-1] == '\\') {
                int escape = escape_at(at, found, quotes);
                if (escape < 0) return -1;
                if (escape) continue;
            }
            if (found < quotes) cuts[found++] = at;
        }
    }
#else
    (void)readable;
#endif
    for (; i < len; i++) { /* near the end of the data: a byte at a time */
        unsigned char c = line[i];
        if (c == '\\') backslashes = 1;
        else if (c == '_' && i + 1 < len && line[i + 1] == 's') pairs = 1;
        else if (c == '"') {
            if (i > 0 && line[i - 1] == '\\') {
                int escape = escape_at(line + i, found, quotes);
                if (escape < 0) return -1;
                if (escape) continue;
            }
            if (found < quotes) cuts[found++] = line + i;
        }
    }
    marks->backslash = backslashes != 0;
    marks->underscore_s = pairs != 0;
    return found;
}

static inline void capture(Span *span, const unsigned char *start, const unsigned char *end) {
    span->start = start;
    span->len = end - start;
}

/* Runs the program on one line; 1 and the captured spans when the plan takes it. The first `quotes`
 * double quotes cut the line (not those escaped inside a quoted value: see scan_line). */
static int run_line(const unsigned char *line, Py_ssize_t len, Py_ssize_t readable, const unsigned char *program,
                    Py_ssize_t plen, int quotes, Span *spans, Marks *marks) {
    const unsigned char *end = line + len;
    const unsigned char *cuts[MAX_SEGMENTS + 1];
    const unsigned char *p;
    if (scan_line(line, len, readable, quotes, cuts, marks) < quotes) return 0;
    int segment = 0;
    const unsigned char *seg_start = line;
    const unsigned char *seg_end = quotes ? cuts[0] : end;
    p = seg_start;
    const unsigned char *pc = program, *last = program + plen - 3; /* program_is_valid: whole ops, known codes */
    int a, b;
#if defined(__GNUC__) && !defined(LEDGER_SWITCH_DISPATCH)
    /* threaded dispatch: each op jumps to the next from its own indirect jump, which the branch predictor
     * learns per op (one shared switch jump mispredicts at most ops of a layout: 9% of the pass) */
    static const void *const at[] = {[OP_LIT] = &&op_lit, [OP_VAL] = &&op_val, [OP_TRAIL] = &&op_trail,
                                     [OP_END] = &&op_end, [OP_QUOTED] = &&op_quoted};
#define JUMP(op) goto *at[op]
#else /* compilers without labels as values (and a build of the tests): one switch */
#define JUMP(op)                                                                                                  \
    switch (op) {                                                                                                 \
    case OP_LIT: goto op_lit;                                                                                     \
    case OP_VAL: goto op_val;                                                                                     \
    case OP_TRAIL: goto op_trail;                                                                                 \
    case OP_END: goto op_end;                                                                                     \
    default: goto op_quoted;                                                                                      \
    }
#endif
#define DISPATCH()                                                                                                \
    do {                                                                                                          \
        if (pc > last) return 0;                                                                                  \
        a = pc[1], b = pc[2];                                                                                     \
        pc += 3;                                                                                                  \
        JUMP(pc[-3]);                                                                                             \
    } while (0)
    DISPATCH();
op_lit:
    if (p >= seg_end || *p != a) return 0;
    p++;
    DISPATCH();
op_val: {
    const unsigned char *q = match_class(a, p, seg_end);
    if (q == NULL) return 0;
    if (b) capture(&spans[b - 1], p, q);
    p = q;
    DISPATCH();
}
op_trail:
    if (p < seg_end) {
        if (!is_space(*p)) return 0;
        p = seg_end;
    }
    DISPATCH();
op_quoted:
    if (a) capture(&spans[a - 1], seg_start, seg_end);
    p = seg_end;
    DISPATCH();
op_end:
    if (p != seg_end) return 0;
    segment++;
    if (segment > quotes) return 1;
    seg_start = cuts[segment - 1] + 1;
    seg_end = segment < quotes ? cuts[segment] : end;
    p = seg_start;
    DISPATCH();
#undef DISPATCH
#undef JUMP
}

/* The triage's tests on one line (ledger.detect.classify.Detector.quiet): whether it may be plain human
 * traffic or another (non-AI, undeclared) bot's, before its user agent is looked up. Conservative: an address that is not a dotted quad or
 * plain IPv6 text (no port, no embedded IPv4, no zone), or anything unusual says no, and the line takes
 * the full path. */
typedef unsigned __int128 u128;
#define MAX_NEEDLES 256

typedef struct {
    int on;
    const uint64_t *starts, *ends; /* the AI-only lists' ranges as 128-bit numbers (IPv4 mapped into
                                    * ::ffff:0:0/96), each as (high, low) words: sorted, disjoint, inclusive */
    Py_ssize_t ranges;
    const unsigned char *needles; /* AI products' hosts, lower case, each ended by '\0' */
    Py_ssize_t needles_len;
    unsigned char bigrams[8192];  /* bit set of the needles' first two bytes, in either case (first | second << 8) */
    uint64_t v4_blocks[1024];     /* bit set of the IPv4 /16 blocks a range touches */
    uint64_t v6_blocks[1024];     /* bit set of the top 16 bits of the numbers a range touches */
    int count;                    /* needles, at most MAX_NEEDLES */
    Py_ssize_t starts_of[MAX_NEEDLES], lengths[MAX_NEEDLES];
    int next[MAX_NEEDLES], by_first[256]; /* the needles starting with each character, as linked lists */
    int client, referer, agent, host, forwarded; /* capture indices, -1 when the layout has none */
    /* user agents known to be a person's browser or another bot (see known_agent): their bytes end to
     * end, where each starts (count + 1 offsets), the kind of each, and an open-addressing table of their
     * indices + 1 by hash */
    const unsigned char *agents;
    const int64_t *agent_at;
    const unsigned char *kinds;
    uint32_t *slots;
    uint64_t slot_mask;
    int owns_slots; /* slots built here (freed by triage_free), not a table given (see index_agents) */
    /* what the spec's buffers hold (ranges, needles, known user agents), until triage_free */
    Py_buffer starts_buf, ends_buf, needles_buf, agents_buf, offsets_buf, kinds_buf, slots_buf;
} Triage;

static inline unsigned char lower(unsigned char c) { return (c >= 'A' && c <= 'Z') ? c + 32 : c; }

static int parse_v4(const unsigned char *p, Py_ssize_t len, uint32_t *out) {
    const unsigned char *end = p + len;
    uint32_t value = 0;
    for (int octet = 0; octet < 4; octet++) {
        if (octet && (p >= end || *p++ != '.')) return 0;
        int digits = 0, number = 0;
        while (p < end && is_digit(*p) && digits < 4) number = number * 10 + (*p++ - '0'), digits++;
        if (digits == 0 || digits > 3 || number > 255) return 0;
        value = value << 8 | (uint32_t)number;
    }
    if (p != end) return 0;
    *out = value;
    return 1;
}

static inline int hex_value(unsigned char c) {
    if (is_digit(c)) return c - '0';
    c = lower(c);
    return (c >= 'a' && c <= 'f') ? c - 'a' + 10 : -1;
}

/* Plain IPv6 text: groups of 1-4 hex digits, at most one "::" standing for at least one zero group. */
static int parse_v6(const unsigned char *p, Py_ssize_t len, u128 *out) {
    unsigned int head[8], tail[8];
    int heads = 0, tails = 0, gap = 0;
    Py_ssize_t i = 0;
    if (len >= 2 && p[0] == ':' && p[1] == ':') gap = 1, i = 2;
    else if (len == 0 || p[0] == ':') return 0;
    while (i < len) {
        unsigned int value = 0;
        int digits = 0, h;
        while (i < len && (h = hex_value(p[i])) >= 0 && digits < 5) value = value * 16 + (unsigned)h, i++, digits++;
        if (digits == 0 || digits > 4) return 0;
        if (gap) {
            if (tails == 8) return 0;
            tail[tails++] = value;
        } else {
            if (heads == 8) return 0;
            head[heads++] = value;
        }
        if (i == len) break;
        if (p[i++] != ':' || i == len) return 0; /* a separator, and something after it */
        if (p[i] == ':') {
            if (gap) return 0;
            gap = 1;
            i++;
        }
    }
    if (gap ? heads + tails > 7 : heads != 8) return 0;
    u128 value = 0;
    for (int k = 0; k < heads; k++) value = value << 16 | head[k];
    for (int k = heads + tails; k < 8; k++) value <<= 16;
    for (int k = 0; k < tails; k++) value = value << 16 | tail[k];
    *out = value;
    return 1;
}

static inline u128 range_word(const uint64_t *words, Py_ssize_t k) { return (u128)words[2 * k] << 64 | words[2 * k + 1]; }

#define V4_MAPPED_FIRST ((u128)0xFFFF << 32)
#define V4_MAPPED_LAST (((u128)0xFFFF << 32) | 0xFFFFFFFFu)

static inline void set_bits(uint64_t *bits, uint32_t first, uint32_t last) {
    for (uint32_t k = first; k <= last; k++) bits[k >> 6] |= (uint64_t)1 << (k & 63);
}

static inline int bit_is_set(const uint64_t *bits, uint32_t k) { return (int)((bits[k >> 6] >> (k & 63)) & 1); }

/* The blocks touched by the ranges: most addresses are in none, and skip the binary search. */
static void index_blocks(Triage *t) {
    memset(t->v4_blocks, 0, sizeof t->v4_blocks);
    memset(t->v6_blocks, 0, sizeof t->v6_blocks);
    for (Py_ssize_t k = 0; k < t->ranges; k++) {
        u128 start = range_word(t->starts, k), end = range_word(t->ends, k);
        set_bits(t->v6_blocks, (uint32_t)(start >> 112), (uint32_t)(end >> 112));
        if (end >= V4_MAPPED_FIRST && start <= V4_MAPPED_LAST) {
            u128 first = start > V4_MAPPED_FIRST ? start : V4_MAPPED_FIRST;
            u128 last = end < V4_MAPPED_LAST ? end : V4_MAPPED_LAST;
            set_bits(t->v4_blocks, (uint32_t)(first >> 16) & 0xFFFF, (uint32_t)(last >> 16) & 0xFFFF);
        }
    }
}

static int in_ranges(const Triage *t, u128 n) {
    if (n >= V4_MAPPED_FIRST && n <= V4_MAPPED_LAST ? !bit_is_set(t->v4_blocks, (uint32_t)(n >> 16) & 0xFFFF)
                                                    : !bit_is_set(t->v6_blocks, (uint32_t)(n >> 112)))
        return 0;
    Py_ssize_t lo = 0, hi = t->ranges; /* the first range starting after n, then the one before it */
    while (lo < hi) {
        Py_ssize_t mid = (lo + hi) / 2;
        if (range_word(t->starts, mid) <= n) lo = mid + 1;
        else hi = mid;
    }
    return lo > 0 && n <= range_word(t->ends, lo - 1);
}

/* Whether text holds one of the needles, ASCII case-insensitively: a bigram table of the bytes as they
 * are (no case folded per byte) says where one may start, and only the needles with that first
 * character are compared there. */
static int mentions(const Triage *t, const unsigned char *text, Py_ssize_t len) {
    for (Py_ssize_t i = 0; i + 1 < len; i++) {
        unsigned int pair = text[i] | (unsigned int)text[i + 1] << 8;
        if (!(t->bigrams[pair >> 3] & (1 << (pair & 7)))) continue;
        unsigned char first = lower(text[i]);
        for (int k = t->by_first[first]; k >= 0; k = t->next[k]) {
            Py_ssize_t nlen = t->lengths[k];
            const unsigned char *needle = t->needles + t->starts_of[k];
            if (nlen > len - i) continue;
            Py_ssize_t j = 0;
            while (j < nlen && lower(text[i + j]) == needle[j]) j++;
            if (j == nlen) return 1;
        }
    }
    return 0;
}

static inline int span_is(const Span *span, const char *text) {
    size_t len = strlen(text);
    return (size_t)span->len == len && memcmp(span->start, text, len) == 0;
}

/* Whether every comma-separated element of an address field or X-Forwarded-For chain (blanks around an
 * element trimmed) is a dotted quad or plain IPv6 text outside the ranges: then whichever hop detection
 * picks as the client, it is in no AI-only list. Anything else (a port, "unknown", an empty element)
 * says no. */
static int chain_outside(const Triage *t, const unsigned char *p, Py_ssize_t len) {
    const unsigned char *end = p + len;
    for (;;) {
        const unsigned char *comma = memchr(p, ',', end - p), *last = comma ? comma : end;
        while (p < last && (*p == ' ' || *p == '\t')) p++;
        while (last > p && (last[-1] == ' ' || last[-1] == '\t')) last--;
        uint32_t v4;
        u128 address;
        if (parse_v4(p, last - p, &v4)) address = (u128)0xFFFF << 32 | v4;
        else if (!parse_v6(p, last - p, &address)) return 0;
        if (in_ranges(t, address)) return 0;
        if (!comma) return 1;
        p = comma + 1;
    }
}

static int quiet_candidate(const Triage *t, const unsigned char *line, Py_ssize_t len, const Span *spans,
                           const Marks *marks) {
    if (t->client < 0 || t->agent < 0) return 0;
    const Span *agent = &spans[t->agent];
    /* utm_source anywhere but in the user agent (which no referral reads: half the line, not searched) */
    const unsigned char *after = agent->start + agent->len;
    if (marks->backslash
        || (marks->underscore_s
            && (memmem(line, agent->start - line, "utm_source=", 11)
                || memmem(after, line + len - after, "utm_source=", 11))))
        return 0;
    if (t->host >= 0 && (spans[t->host].len == 0 || span_is(&spans[t->host], "-"))) return 0;
    if (t->referer >= 0 && mentions(t, spans[t->referer].start, spans[t->referer].len)) return 0;
    /* behind a load balancer: the client is one of the forwarded chain's hops or the address field */
    const Span *forwarded = t->forwarded >= 0 ? &spans[t->forwarded] : NULL;
    if (forwarded && !span_is(forwarded, "-") && !chain_outside(t, forwarded->start, forwarded->len)) return 0;
    return chain_outside(t, spans[t->client].start, spans[t->client].len);
}

/* A 64-bit hash of a string, 16 bytes at a time in two lanes (a table key: hits are compared byte for byte). */
static inline uint64_t hash_bytes(const unsigned char *p, Py_ssize_t len) {
    uint64_t h = 0x9E3779B97F4A7C15ULL ^ (uint64_t)len, g = 0x2545F4914F6CDD1DULL;
    for (; len >= 16; p += 16, len -= 16) { /* two independent lanes: half the multiply chain */
        uint64_t one, two;
        memcpy(&one, p, 8);
        memcpy(&two, p + 8, 8);
        h = (h ^ one) * 0xFF51AFD7ED558CCDULL;
        g = (g ^ two) * 0xC4CEB9FE1A85EC53ULL;
        h ^= h >> 32;
        g ^= g >> 29;
    }
    h ^= g * 0x9E3779B97F4A7C15ULL;
    for (; len >= 8; p += 8, len -= 8) {
        uint64_t word;
        memcpy(&word, p, 8);
        h = (h ^ word) * 0xFF51AFD7ED558CCDULL;
        h ^= h >> 32;
    }
    uint64_t tail = 0;
    memcpy(&tail, p, (size_t)len);
    h = (h ^ tail) * 0xC4CEB9FE1A85EC53ULL;
    return h ^ (h >> 29);
}

/* The position + 1 of a known user agent in the table (the first of equal ones), 0 for one not known. */
static uint32_t agent_slot(const Triage *t, const unsigned char *agent, Py_ssize_t len) {
    if (t->slots == NULL) return 0;
    for (uint64_t k = hash_bytes(agent, len) & t->slot_mask;; k = (k + 1) & t->slot_mask) {
        uint32_t slot = t->slots[k];
        if (slot == 0) return 0;
        Py_ssize_t at = (Py_ssize_t)t->agent_at[slot - 1], size = (Py_ssize_t)t->agent_at[slot] - at;
        if (size == len && memcmp(t->agents + at, agent, (size_t)len) == 0) return slot;
    }
}

/* The kind of a known user agent (1 a person's, 2 another bot's, 3 a declared bot's), 0 for one not known. */
static int known_agent(const Triage *t, const unsigned char *agent, Py_ssize_t len) {
    uint32_t slot = agent_slot(t, agent, len);
    return slot ? t->kinds[slot - 1] : 0;
}

/* The kind of a line's user agent for the triage: a known one's (see known_agent), and another bot's
 * (2) when there is none ("-" or empty). */
static int agent_kind(const Triage *t, const unsigned char *agent, Py_ssize_t len) {
    return len == 0 || (len == 1 && agent[0] == '-') ? 2 : known_agent(t, agent, len);
}

/* A user agent's kind as the flags of the triage's answers: a person's at bit `at`, another bot's (or
 * none) at the next bit, a declared bot's at the one after. */
static inline unsigned kind_bits(int kind, int at) {
    return (unsigned)((kind == 1) << at | (kind == 2) << (at + 1) | (kind == 3) << (at + 2));
}

/* Whether `given` is a table of `count` known user agents' slots as index_agents builds it: a power of two
 * (at least 16) of uint32 slots, each 0 or a position + 1, with an empty one to end every probe. */
static int slots_hold(const Py_buffer *given, Py_ssize_t count) {
    Py_ssize_t size = given->len / 4;
    if (given->len % 4 || size < 16 || (size & (size - 1))) return 0;
    const uint32_t *slots = (const uint32_t *)given->buf;
    int empty = 0;
    for (Py_ssize_t k = 0; k < size; k++) {
        if (slots[k] > (uint64_t)count) return 0;
        empty |= slots[k] == 0;
    }
    return empty;
}

/* The table of known user agents, from their bytes, count + 1 offsets and count kinds, and the slots of
 * their hash table: those `given` (agent_index's, made once for a table that many calls look up in: hashing
 * 200,000 user agents takes 9 ms), else built here; 0 with an exception when they do not hold together or
 * memory runs out. */
static int index_agents(Triage *t, Py_buffer *agents, Py_buffer *offsets, Py_buffer *kinds, Py_buffer *given) {
    t->slots = NULL;
    t->owns_slots = 0;
    if (agents->obj == NULL) return 1;
    Py_ssize_t count = offsets->len / 8 - 1;
    const int64_t *at = (const int64_t *)offsets->buf;
    int ok = offsets->len % 8 == 0 && count >= 0 && count < INT32_MAX && at[0] == 0 && at[count] == agents->len
             && kinds->len == count;
    for (Py_ssize_t k = 0; ok && k < count; k++)
        ok = at[k] <= at[k + 1] && ((const unsigned char *)kinds->buf)[k] >= 1 && ((const unsigned char *)kinds->buf)[k] <= 3;
    if (ok && given != NULL && given->obj != NULL && given->len) ok = slots_hold(given, count);
    if (!ok) {
        PyErr_SetString(PyExc_ValueError, "split: bad known user agents");
        return 0;
    }
    t->agents = (const unsigned char *)agents->buf;
    t->agent_at = at;
    t->kinds = (const unsigned char *)kinds->buf;
    if (given != NULL && given->obj != NULL && given->len) {
        t->slots = (uint32_t *)given->buf;
        t->slot_mask = (uint64_t)(given->len / 4) - 1;
        return 1;
    }
    uint64_t size = 16;
    while (size < 2 * (uint64_t)count) size *= 2;
    t->slots = PyMem_Calloc(size, sizeof(uint32_t));
    if (t->slots == NULL) {
        PyErr_NoMemory();
        return 0;
    }
    t->owns_slots = 1;
    t->slot_mask = size - 1;
    for (Py_ssize_t k = 0; k < count; k++) {
        const unsigned char *agent = t->agents + at[k];
        Py_ssize_t len = (Py_ssize_t)(at[k + 1] - at[k]);
        if (agent_slot(t, agent, len)) continue; /* the same string twice: the first one's kind */
        uint64_t slot = hash_bytes(agent, len) & t->slot_mask;
        while (t->slots[slot]) slot = (slot + 1) & t->slot_mask;
        t->slots[slot] = (uint32_t)(k + 1);
    }
    return 1;
}

/* A triage with nothing in it yet (NULL with an exception when memory runs out); free with triage_free. */
static Triage *triage_new(void) {
    Triage *t = PyMem_Calloc(1, sizeof(Triage));
    if (!t) PyErr_NoMemory();
    return t;
}

static void triage_free(Triage *t) {
    if (!t) return;
    Py_buffer *held[] = {&t->starts_buf, &t->ends_buf,    &t->needles_buf, &t->agents_buf,
                         &t->offsets_buf, &t->kinds_buf, &t->slots_buf};
    for (size_t k = 0; k < sizeof held / sizeof *held; k++)
        if (held[k]->obj) PyBuffer_Release(held[k]);
    if (t->owns_slots) PyMem_Free(t->slots);
    PyMem_Free(t);
}

static inline unsigned char upper(unsigned char c) { return (c >= 'a' && c <= 'z') ? c - 32 : c; }

/* A needle's first two bytes in the bigram table, in each case: the scan tests the bytes as they are. */
static void mark_bigram(Triage *t, unsigned char a, unsigned char b) {
    const unsigned char firsts[2] = {a, upper(a)}, seconds[2] = {b, upper(b)};
    for (int x = 0; x < 2; x++)
        for (int y = 0; y < 2; y++) {
            unsigned int pair = firsts[x] | (unsigned int)seconds[y] << 8;
            t->bigrams[pair >> 3] |= (unsigned char)(1 << (pair & 7));
        }
}

/* The triage of a spec (see the module comment; None: off), its buffers held by t (see triage_free). */
static int triage_from(PyObject *spec, Triage *t) {
    Py_buffer *starts = &t->starts_buf, *ends = &t->ends_buf, *needles = &t->needles_buf, *agents = &t->agents_buf;
    Py_buffer *offsets = &t->offsets_buf, *kinds = &t->kinds_buf, *slots = &t->slots_buf;
    t->on = 0;
    t->slots = NULL;
    if (spec == Py_None) return 1;
    if (!PyArg_ParseTuple(spec, "y*y*y*iiiii|y*y*y*y*", starts, ends, needles, &t->client, &t->referer, &t->agent,
                          &t->host, &t->forwarded, agents, offsets, kinds, slots))
        return 0;
    if ((agents->obj == NULL) != (offsets->obj == NULL) || (agents->obj == NULL) != (kinds->obj == NULL)) {
        PyErr_SetString(PyExc_ValueError, "split: bad known user agents");
        return 0;
    }
    if (!index_agents(t, agents, offsets, kinds, slots)) return 0;
    const char *last = needles->len ? (const char *)needles->buf + needles->len - 1 : NULL;
    if (starts->len != ends->len || starts->len % 16 || (last && *last)) {
        PyErr_SetString(PyExc_ValueError, "split: bad triage arguments");
        return 0;
    }
    t->on = 1;
    t->starts = (const uint64_t *)starts->buf;
    t->ends = (const uint64_t *)ends->buf;
    t->ranges = starts->len / 16;
    index_blocks(t);
    t->needles = (const unsigned char *)needles->buf;
    t->needles_len = needles->len;
    memset(t->bigrams, 0, sizeof t->bigrams);
    memset(t->by_first, 0xff, sizeof t->by_first); /* -1: none */
    t->count = 0;
    for (Py_ssize_t at = 0; at < t->needles_len;) {
        Py_ssize_t nlen = (Py_ssize_t)strlen((const char *)t->needles + at);
        if (t->count == MAX_NEEDLES || nlen < 2) { /* too many, or one letter: test nothing natively */
            t->on = 0;
            return 1;
        }
        unsigned char first = t->needles[at];
        mark_bigram(t, first, t->needles[at + 1]);
        t->starts_of[t->count] = at;
        t->lengths[t->count] = nlen;
        t->next[t->count] = t->by_first[first];
        t->by_first[first] = t->count++;
        at += nlen + 1;
    }
    return 1;
}

/* An Arrow string view of a span: inline when it fits 12 bytes, else its prefix and where it starts in
 * data buffer `buffer` (at base). */
static inline void write_view(unsigned char *view, const unsigned char *start, Py_ssize_t length,
                              const unsigned char *base, int32_t buffer) {
    unsigned char out[16] = {0};
    int32_t len = (int32_t)length;
    memcpy(out, &len, 4);
    if (len <= 12) {
        for (int32_t k = 0; k < len; k++) out[4 + k] = start[k];
    } else {
        int32_t offset = (int32_t)(start - base);
        memcpy(out + 4, start, 4);
        memcpy(out + 8, &buffer, 4);
        memcpy(out + 12, &offset, 4);
    }
    memcpy(view, out, 16);
}

/* An Arrow string-view array read in place: 16-byte views (length, then the bytes inline up to 12, else
 * a prefix, a data buffer index and an offset), a validity bitmap, the data buffers. */
typedef struct {
    Py_ssize_t n, offset; /* elements, and the first one's position in views and validity */
    Py_buffer views, validity; /* validity.obj is NULL when every element is valid */
    Py_ssize_t nbufs, acquired, total; /* data buffers, those held, their bytes */
    Py_buffer *bufs;
} Strings;

static void strings_release(Strings *s) {
    if (s->views.obj) PyBuffer_Release(&s->views);
    if (s->validity.obj) PyBuffer_Release(&s->validity);
    for (Py_ssize_t b = 0; b < s->acquired; b++) PyBuffer_Release(&s->bufs[b]);
    PyMem_Free(s->bufs);
    s->bufs = NULL;
}

/* strings: (views, validity or None, offset, n, (data buffers, ...)), from ledger.parse.native.string_views.
 * Every view is checked against its buffer first, so no later read leaves the data: 0 with ValueError
 * "<fn>: views outside the data" (or another exception) otherwise. Release with strings_release. */
static int strings_from(PyObject *arg, Strings *s, const char *fn) {
    memset(s, 0, sizeof *s);
    PyObject *views, *validity, *buffers;
    if (!PyTuple_Check(arg)
        || !PyArg_ParseTuple(arg, "OOnnO!", &views, &validity, &s->offset, &s->n, &PyTuple_Type, &buffers)) {
        if (!PyErr_Occurred()) PyErr_Format(PyExc_TypeError, "%s: strings must be a tuple", fn);
        return 0;
    }
    if (PyObject_GetBuffer(views, &s->views, PyBUF_SIMPLE) < 0) return 0;
    if (validity != Py_None && PyObject_GetBuffer(validity, &s->validity, PyBUF_SIMPLE) < 0) return 0;
    s->nbufs = PyTuple_GET_SIZE(buffers);
    s->bufs = PyMem_Calloc(s->nbufs ? (size_t)s->nbufs : 1, sizeof(Py_buffer));
    if (!s->bufs) {
        PyErr_NoMemory();
        return 0;
    }
    for (Py_ssize_t b = 0; b < s->nbufs; b++) {
        if (PyObject_GetBuffer(PyTuple_GET_ITEM(buffers, b), &s->bufs[b], PyBUF_SIMPLE) < 0) return 0;
        s->acquired++;
        s->total += s->bufs[b].len;
    }
    if (s->offset < 0 || s->n < 0 || s->nbufs > INT32_MAX || s->views.len / 16 < s->offset + s->n
        || (s->validity.obj && s->validity.len * 8 < s->offset + s->n)) {
        PyErr_Format(PyExc_ValueError, "%s: views outside the data", fn);
        return 0;
    }
    const unsigned char *view = (const unsigned char *)s->views.buf + 16 * s->offset;
    for (Py_ssize_t i = 0; i < s->n; i++, view += 16) {
        int32_t len, buffer, offset;
        memcpy(&len, view, 4);
        if (len <= 12) {
            if (len >= 0) continue;
        } else {
            memcpy(&buffer, view + 8, 4);
            memcpy(&offset, view + 12, 4);
            if (buffer >= 0 && buffer < s->nbufs && offset >= 0 && (Py_ssize_t)offset + len <= s->bufs[buffer].len)
                continue;
        }
        PyErr_Format(PyExc_ValueError, "%s: views outside the data", fn);
        return 0;
    }
    return 1;
}

/* The one argument of addresses() and requests(), a string-view array (strings_from); texts can be
 * released whatever this returns. */
/* Two string-view arrays of the same length (see strings_from), or 0 with an exception (ValueError
 * "<fn>: <mismatch>" when their lengths differ). Both are ready for strings_release either way. */
static int strings_pair(PyObject *first, PyObject *second, Strings *a, Strings *b, const char *fn,
                        const char *mismatch) {
    memset(b, 0, sizeof *b);
    if (!strings_from(first, a, fn) || !strings_from(second, b, fn)) return 0;
    if (a->n != b->n) {
        PyErr_Format(PyExc_ValueError, "%s: %s", fn, mismatch);
        return 0;
    }
    return 1;
}

static int strings_argument(PyObject *args, Strings *texts, const char *fn) {
    PyObject *strings;
    memset(texts, 0, sizeof *texts);
    if (!PyArg_ParseTuple(args, "O", &strings)) return 0;
    return strings_from(strings, texts, fn);
}

/* Element i: its bytes and length, and the data buffer they are in (-1: inline, or null read as ""). */
static inline const unsigned char *string_at(const Strings *s, Py_ssize_t i, Py_ssize_t *len, int32_t *buffer) {
    const unsigned char *view = (const unsigned char *)s->views.buf + 16 * (s->offset + i);
    Py_ssize_t bit = s->offset + i;
    int32_t length;
    *buffer = -1;
    if (s->validity.obj && !((((const unsigned char *)s->validity.buf)[bit >> 3] >> (bit & 7)) & 1)) {
        *len = 0;
        return view + 4;
    }
    memcpy(&length, view, 4);
    *len = length;
    if (length <= 12) return view + 4;
    int32_t offset;
    memcpy(buffer, view + 8, 4);
    memcpy(&offset, view + 12, 4);
    return (const unsigned char *)s->bufs[*buffer].buf + offset;
}

/* One line's views: the spans at index[0..count) (or empty views when the line was not taken), over the
 * line's data buffer (base, buffer), and each field's long values counted in sizes for pack(). */
static inline void emit_views(unsigned char **view_bufs, Py_ssize_t i, int good, const Span *spans,
                              const int *index, int count, const unsigned char *base, int32_t buffer,
                              int64_t *sizes) {
    for (int f = 0; f < count; f++) {
        unsigned char *view = view_bufs[f] + 16 * i;
        if (!good) {
            memset(view, 0, 16);
            continue;
        }
        const Span *span = &spans[index[f]];
        write_view(view, span->start, span->len, base, buffer);
        if (span->len > 12) sizes[f] += span->len;
    }
}

/* count new view buffers of n views each, in the list views; 0 with an exception when memory runs out. */
static int new_views(PyObject *views, int count, Py_ssize_t n, unsigned char **view_bufs) {
    for (int f = 0; f < count; f++) {
        PyObject *view = PyByteArray_FromStringAndSize(NULL, n * 16);
        if (!view) return 0;
        PyList_SET_ITEM(views, f, view);
        view_bufs[f] = (unsigned char *)PyByteArray_AS_STRING(view);
    }
    return 1;
}

/* After a first pass that wrote views over the lines' data and summed each field's long values (sizes):
 * a field that fills a good part of the lines (a user agent, a request) keeps pointing into the lines'
 * data buffers (None in buffers); a short one (an address, a time) gets its own packed buffer, or polars
 * would copy the whole data's worth of it at every filter (it compacts a view array four times larger
 * than its strings). The fields in loose (bits by position) are never packed: a caller that only reads
 * a few of their values. 0 with an exception set when memory runs out. */
static int pack(int nfields, Py_ssize_t n, unsigned char **view_bufs, const int64_t *sizes, const Strings *lines,
                PyObject *buffers, unsigned loose) {
    unsigned char *data_bufs[MAX_FIELDS];
    int packed[MAX_FIELDS], npacked = 0;
    for (int f = 0; f < nfields; f++) {
        if (loose >> f & 1 || sizes[f] > INT32_MAX
            || 16 * (int64_t)n + (int64_t)lines->total < 2 * (16 * (int64_t)n + sizes[f])) {
            Py_INCREF(Py_None);
            PyList_SET_ITEM(buffers, f, Py_None);
            continue;
        }
        PyObject *buffer = PyByteArray_FromStringAndSize(NULL, sizes[f]);
        if (!buffer) return 0;
        PyList_SET_ITEM(buffers, f, buffer);
        data_bufs[npacked] = (unsigned char *)PyByteArray_AS_STRING(buffer);
        packed[npacked++] = f;
    }
    /* Line by line, every packed field of it at once: a line's fields share its few cache lines, which a
     * pass per field read again from memory for each field (the unsettled lines are scattered over the
     * whole block). */
    Py_BEGIN_ALLOW_THREADS
    int32_t used[MAX_FIELDS] = {0};
    for (Py_ssize_t i = 0; npacked && i < n; i++) {
        for (int k = 0; k < npacked; k++) {
            unsigned char *view = view_bufs[packed[k]] + 16 * i;
            int32_t len, buffer, offset;
            memcpy(&len, view, 4);
            if (len <= 12) continue;
            memcpy(&buffer, view + 8, 4);
            memcpy(&offset, view + 12, 4);
            memcpy(data_bufs[k] + used[k], (const unsigned char *)lines->bufs[buffer].buf + offset, len);
            memset(view + 8, 0, 4);
            memcpy(view + 12, &used[k], 4);
            used[k] += len;
        }
    }
    Py_END_ALLOW_THREADS
    return 1;
}

/* Whether an address field is a bare address as the typing's ^(?:\d{1,3}(?:\.\d{1,3}){3}|[0-9A-Fa-f:]*:[0-9A-Fa-f:.]*)$
 * reads one, for ASCII (a non-ASCII digit says no): a dotted quad of one to three digits each, or hex
 * digits, colons and dots with a colon before any dot. */
static int bare_address(const unsigned char *p, Py_ssize_t len) {
    const unsigned char *end = p + len, *q = p;
    int groups = 0;
    for (;;) { /* the dotted quad */
        const unsigned char *digits = q;
        while (q < end && q - digits < 3 && is_digit(*q)) q++;
        if (q == digits) break;
        if (++groups == 4) {
            if (q == end) return 1;
            break;
        }
        if (q == end || *q != '.') break;
        q++;
    }
    int colon = 0;
    for (q = p; q < end; q++) {
        unsigned char c = *q;
        if (c == ':') colon = 1;
        else if (c == '.') {
            if (!colon) return 0;
        } else if (!(is_digit(c) || ((c | 0x20) >= 'a' && (c | 0x20) <= 'f'))) return 0;
    }
    return colon;
}

/* A program only captures into the fields there are, and has one run per segment. */
static int program_is_valid(const unsigned char *program, Py_ssize_t len, int quotes, int nfields) {
    int ends = 0;
    if (len % 3) return 0;
    for (Py_ssize_t pc = 0; pc < len; pc += 3) {
        int op = program[pc], a = program[pc + 1], b = program[pc + 2];
        if (op == OP_VAL && (b > nfields || a < C_NONSPACE_PLUS || a > C_CHAIN)) return 0;
        if (op == OP_QUOTED && a > nfields) return 0;
        if (op == OP_END) ends++;
        if (op < OP_LIT || op > OP_QUOTED) return 0;
    }
    return ends == quotes + 1;
}

/* columns(strings, sep, wanted) -> (ok: bytearray[n], views: [bytearray[16n]], buffers: [..])
 * for separator-split layouts (W3C, CloudFront): wanted holds one byte per field, the index of the column
 * it is read from. A line is ok when it has no double quote, does not start with '#', and has more
 * columns than the largest wanted index (more columns than named is fine); the fields of other lines are
 * empty views, and ledger.parse.w3c reads those lines its own way. */
static PyObject *columns(PyObject *self, PyObject *args) {
    (void)self;
    PyObject *strings;
    Py_buffer wanted;
    int sep;
    if (!PyArg_ParseTuple(args, "Oiy*", &strings, &sep, &wanted)) return NULL;
    PyObject *result = NULL, *ok = NULL, *views = NULL, *buffers = NULL;
    Strings lines;
    if (!strings_from(strings, &lines, "columns")) goto done;
    int nfields = (int)wanted.len, needed = 0;
    const unsigned char *want = (const unsigned char *)wanted.buf;
    for (int f = 0; f < nfields; f++) needed = want[f] + 1 > needed ? want[f] + 1 : needed;
    if (nfields > MAX_FIELDS || sep < 1 || sep > 127 || sep == '"') {
        PyErr_SetString(PyExc_ValueError, "columns: bad arguments");
        goto done;
    }
    Py_ssize_t n = lines.n;
    ok = PyByteArray_FromStringAndSize(NULL, n);
    views = PyList_New(nfields);
    buffers = PyList_New(nfields);
    if (!ok || !views || !buffers) goto done;
    unsigned char *view_bufs[MAX_FIELDS];
    if (!new_views(views, nfields, n, view_bufs)) goto done;
    int index[MAX_FIELDS];
    for (int f = 0; f < nfields; f++) index[f] = want[f];
    char *ok_out = PyByteArray_AS_STRING(ok);
    int64_t sizes[MAX_FIELDS] = {0};
    Py_BEGIN_ALLOW_THREADS
    Span cells[256];
    for (Py_ssize_t i = 0; i < n; i++) {
        Py_ssize_t len;
        int32_t buffer;
        const unsigned char *line = string_at(&lines, i, &len, &buffer), *end = line + len;
        int good = end > line && *line != '#';
        int count = 0;
        const unsigned char *p = line, *cell = line;
#ifdef __SSE2__
        /* 16 bytes at a time: a bit for each separator or quote, taken in order */
        const __m128i separator = _mm_set1_epi8((char)sep), quote = _mm_set1_epi8('"');
        while (good && count < needed && end - p >= 16) {
            __m128i chunk = _mm_loadu_si128((const __m128i *)p);
            unsigned mask = (unsigned)_mm_movemask_epi8(
                _mm_or_si128(_mm_cmpeq_epi8(chunk, separator), _mm_cmpeq_epi8(chunk, quote)));
            while (mask && count < needed) {
                const unsigned char *at = p + __builtin_ctz(mask);
                if (*at == '"') {
                    good = 0;
                    break;
                }
                cells[count].start = cell;
                cells[count++].len = at - cell;
                cell = at + 1;
                mask &= mask - 1;
            }
            p = count < needed ? p + 16 : cell;
        }
#endif
        for (; good && p < end && count < needed; p++) { /* the rest, a byte at a time */
            if (*p == '"') good = 0;
            else if (*p == sep) {
                cells[count].start = cell;
                cells[count++].len = p - cell;
                cell = p + 1;
            }
        }
        if (good && count < needed && p == end) { /* the last cell runs to the end of the line */
            cells[count].start = cell;
            cells[count++].len = end - cell;
        }
        good = good && count >= needed && !memchr(p, '"', end - p);
        ok_out[i] = (char)good;
        const unsigned char *base = buffer >= 0 ? (const unsigned char *)lines.bufs[buffer].buf : NULL;
        emit_views(view_bufs, i, good, cells, index, nfields, base, buffer, sizes);
    }
    Py_END_ALLOW_THREADS
    if (!pack(nfields, n, view_bufs, sizes, &lines, buffers, 0)) goto done;
    result = Py_BuildValue("(OOO)", ok, views, buffers);
done:
    Py_XDECREF(ok);
    Py_XDECREF(views);
    Py_XDECREF(buffers);
    strings_release(&lines);
    PyBuffer_Release(&wanted);
    return result;
}

static PyObject *split(PyObject *self, PyObject *args) {
    (void)self;
    Py_buffer program, outputs = {0};
    int quotes, nfields, time_field;
    unsigned loose = 0; /* the outputs (bits by position) left pointing into the lines, never packed */
    int unsettled = 0;  /* also every field of the lines the triage does not settle, compactly */
    PyObject *strings, *spec = Py_None;
    if (!PyArg_ParseTuple(args, "Oy*iii|Oy*Ip", &strings, &program, &quotes, &nfields, &time_field, &spec, &outputs,
                          &loose, &unsettled))
        return NULL;
    PyObject *result = NULL, *ok = NULL, *ts = NULL, *views = NULL, *buffers = NULL;
    PyObject *rows = NULL, *rest_views = NULL, *rest_buffers = NULL, *rest_clean = NULL;
    Strings lines;
    Triage *triage = NULL;
    if (!strings_from(strings, &lines, "split")) goto done;
    if (!(triage = triage_new()) || !triage_from(spec, triage)) goto done;
    if (triage->on && (triage->client >= nfields || triage->referer >= nfields || triage->agent >= nfields
                       || triage->host >= nfields || triage->forwarded >= nfields)) {
        PyErr_SetString(PyExc_ValueError, "split: triage field outside the fields");
        goto done;
    }
    if (nfields < 0 || nfields > MAX_FIELDS || quotes < 0 || quotes > MAX_SEGMENTS || time_field >= nfields
        || !program_is_valid(program.buf, program.len, quotes, nfields)) {
        PyErr_SetString(PyExc_ValueError, "split: bad arguments");
        goto done;
    }
    /* the fields whose views are written: all, or the capture indices in outputs */
    int out[MAX_FIELDS], nout = 0;
    if (outputs.obj == NULL)
        for (int f = 0; f < nfields; f++) out[nout++] = f;
    else
        for (Py_ssize_t k = 0; k < outputs.len && nout < MAX_FIELDS; k++) {
            out[nout] = ((const unsigned char *)outputs.buf)[k];
            if (out[nout++] >= nfields) {
                PyErr_SetString(PyExc_ValueError, "split: output field outside the fields");
                goto done;
            }
        }
    Py_ssize_t n = lines.n;
    if (unsettled && (!triage->on || n > INT32_MAX)) {
        PyErr_SetString(PyExc_ValueError, "split: unsettled lines need a triage (and fewer than 2**31 lines)");
        goto done;
    }
    ok = PyByteArray_FromStringAndSize(NULL, n);
    ts = PyByteArray_FromStringAndSize(NULL, n * 8);
    views = PyList_New(nout);
    buffers = PyList_New(nout);
    if (!ok || !ts || !views || !buffers) goto done;
    unsigned char *view_bufs[MAX_FIELDS];
    if (!new_views(views, nout, n, view_bufs)) goto done;
    /* the unsettled lines' fields: room for every line, the pages touched only as lines come (resized below) */
    unsigned char *rest_bufs[MAX_FIELDS];
    int all_fields[MAX_FIELDS];
    int32_t *rest_rows = NULL;
    char *clean_out = NULL;
    int64_t rest_sizes[MAX_FIELDS] = {0};
    Py_ssize_t r = 0;
    if (unsettled) {
        rows = PyByteArray_FromStringAndSize(NULL, n * 4);
        rest_clean = PyByteArray_FromStringAndSize(NULL, n);
        rest_views = PyList_New(nfields);
        rest_buffers = PyList_New(nfields);
        if (!rows || !rest_clean || !rest_views || !rest_buffers || !new_views(rest_views, nfields, n, rest_bufs))
            goto done;
        rest_rows = (int32_t *)PyByteArray_AS_STRING(rows);
        clean_out = PyByteArray_AS_STRING(rest_clean);
        for (int f = 0; f < nfields; f++) all_fields[f] = f;
    }
    char *ok_out = PyByteArray_AS_STRING(ok);
    int64_t *ts_out = (int64_t *)PyByteArray_AS_STRING(ts);
    const unsigned char *prog = (const unsigned char *)program.buf;
    Py_ssize_t plen = program.len;
    int64_t sizes[MAX_FIELDS] = {0};
    /* First pass: cut every line; views point into the line data; count each field's long values. */
    Py_BEGIN_ALLOW_THREADS
    Span spans[MAX_FIELDS];
    for (Py_ssize_t i = 0; i < n; i++) {
        Py_ssize_t len;
        int32_t buffer;
        const unsigned char *line = string_at(&lines, i, &len, &buffer);
        Marks marks = {1, 1}; /* set by run_line; "maybe" when it gave up early */
        Py_ssize_t readable = buffer >= 0 ? (const unsigned char *)lines.bufs[buffer].buf + lines.bufs[buffer].len - line : len;
        int good = len > 0 && run_line(line, len, readable, prog, plen, quotes, spans, &marks);
        int64_t micros = 0;
        if (good && time_field >= 0) good = parse_clf(spans[time_field].start, spans[time_field].len, &micros);
        int candidate = good && triage->on && quiet_candidate(triage, line, len, spans, &marks), kind = 0;
        if (candidate) kind = agent_kind(triage, spans[triage->agent].start, spans[triage->agent].len);
        ok_out[i] = (char)((unsigned)(good | candidate << 1) | kind_bits(kind, 2));
        ts_out[i] = micros;
        const unsigned char *base = buffer >= 0 ? (const unsigned char *)lines.bufs[buffer].buf : NULL;
        emit_views(view_bufs, i, good, spans, out, nout, base, buffer, sizes);
        if (rest_rows && !(candidate && (kind == 1 || kind == 2))) { /* not settled: the full path needs all its fields */
            rest_rows[r] = (int32_t)i;
            clean_out[r] = (char)(good && !marks.backslash && triage->client >= 0
                                  && bare_address(spans[triage->client].start, spans[triage->client].len));
            emit_views(rest_bufs, r++, good, spans, all_fields, nfields, base, buffer, rest_sizes);
        }
    }
    Py_END_ALLOW_THREADS
    if (!pack(nout, n, view_bufs, sizes, &lines, buffers, loose)) goto done;
    if (!unsettled) {
        result = Py_BuildValue("(OOOO)", ok, ts, views, buffers);
        goto done;
    }
    if (PyByteArray_Resize(rows, r * 4) < 0 || PyByteArray_Resize(rest_clean, r) < 0) goto done;
    for (int f = 0; f < nfields; f++) {
        if (PyByteArray_Resize(PyList_GET_ITEM(rest_views, f), r * 16) < 0) goto done;
        rest_bufs[f] = (unsigned char *)PyByteArray_AS_STRING(PyList_GET_ITEM(rest_views, f));
    }
    if (!pack(nfields, r, rest_bufs, rest_sizes, &lines, rest_buffers, 0)) goto done;
    result = Py_BuildValue("(OOOOOOOO)", ok, ts, views, buffers, rows, rest_views, rest_buffers, rest_clean);
done:
    Py_XDECREF(rows);
    Py_XDECREF(rest_clean);
    Py_XDECREF(rest_views);
    Py_XDECREF(rest_buffers);
    if (outputs.obj) PyBuffer_Release(&outputs);
    triage_free(triage);
    Py_XDECREF(ok);
    Py_XDECREF(ts);
    Py_XDECREF(views);
    Py_XDECREF(buffers);
    strings_release(&lines);
    PyBuffer_Release(&program);
    return result;
}

/* Whether the bytes are well-formed UTF-8 as Python's strict decoder reads it: no stray continuation
 * byte, no truncated sequence, no overlong form, no surrogate, nothing above U+10FFFF. */
static int is_utf8(const unsigned char *p, Py_ssize_t len) {
    Py_ssize_t i = 0;
    while (i < len) {
        while (len - i >= 8) { /* ASCII, eight bytes at a time */
            uint64_t word;
            memcpy(&word, p + i, 8);
            if (word & 0x8080808080808080ULL) break;
            i += 8;
        }
        if (i >= len) break;
        unsigned char c = p[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        int more;
        uint32_t code;
        if (c >= 0xC2 && c <= 0xDF) more = 1, code = c & 0x1F;
        else if (c >= 0xE0 && c <= 0xEF) more = 2, code = c & 0x0F;
        else if (c >= 0xF0 && c <= 0xF4) more = 3, code = c & 0x07;
        else return 0;
        if (len - i <= more) return 0;
        for (int k = 1; k <= more; k++) {
            if ((p[i + k] & 0xC0) != 0x80) return 0;
            code = code << 6 | (p[i + k] & 0x3F);
        }
        if ((more == 2 && (code < 0x800 || (code >= 0xD800 && code <= 0xDFFF))) || (more == 3 && (code < 0x10000 || code > 0x10FFFF)))
            return 0;
        i += more + 1;
    }
    return 1;
}

/* lines(data, end) -> (count, views, utf8): Arrow binary views of the newline-terminated lines in
 * data[:end], without their "\n" or a "\r" before it, over data itself (buffer 0), and whether every line
 * is UTF-8 (see is_utf8), so that the caller takes them as text without polars checking every byte again
 * (6 ms a 32 MiB block). The pass that counts the newlines notes which 64-byte pieces hold a byte that is
 * not ASCII, at no cost of its own; only the lines over those are checked. */
static PyObject *lines(PyObject *self, PyObject *args) {
    (void)self;
    Py_buffer data;
    Py_ssize_t end;
    if (!PyArg_ParseTuple(args, "y*n", &data, &end)) return NULL;
    PyObject *views = NULL, *result = NULL;
    uint64_t *highs = NULL; /* a bit per 64 bytes that holds a byte not ASCII, when the block has one */
    if (end < 0 || end > data.len || data.len > INT32_MAX) {
        PyErr_SetString(PyExc_ValueError, "lines: end outside the data");
        goto done;
    }
    const unsigned char *bytes = (const unsigned char *)data.buf;
    Py_ssize_t count = 0, chunks = (end + 63) / 64;
    int oom = 0;
    Py_BEGIN_ALLOW_THREADS
    Py_ssize_t i = 0;
#ifdef __SSE2__
    const __m128i newline = _mm_set1_epi8('\n');
    for (; i + 64 <= end; i += 64) { /* the newlines counted, and the bytes' high bits, 64 bytes at a time */
        __m128i a = _mm_loadu_si128((const __m128i *)(bytes + i)), b = _mm_loadu_si128((const __m128i *)(bytes + i + 16));
        __m128i c = _mm_loadu_si128((const __m128i *)(bytes + i + 32)), d = _mm_loadu_si128((const __m128i *)(bytes + i + 48));
        uint64_t found = (uint64_t)(unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(a, newline))
                         | (uint64_t)(unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(b, newline)) << 16
                         | (uint64_t)(unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(c, newline)) << 32
                         | (uint64_t)(unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(d, newline)) << 48;
        /* one by one: a line is longer than 64 bytes, so mostly none (a popcount is a libgcc call without -mpopcnt) */
        for (; found; found &= found - 1) count++;
        if (_mm_movemask_epi8(_mm_or_si128(_mm_or_si128(a, b), _mm_or_si128(c, d)))) {
            if (!highs && !(highs = calloc((size_t)(chunks + 63) / 64, 8))) break;
            highs[i / 4096] |= 1ULL << (i / 64 % 64);
        }
    }
#endif
    for (; i < end; i++) {
        count += bytes[i] == '\n';
        if (bytes[i] & 0x80) {
            if (!highs && !(highs = calloc((size_t)(chunks + 63) / 64, 8))) break;
            highs[i / 4096] |= 1ULL << (i / 64 % 64);
        }
    }
    oom = i < end;
    Py_END_ALLOW_THREADS
    if (oom) {
        PyErr_NoMemory();
        goto done;
    }
    views = PyByteArray_FromStringAndSize(NULL, count * 16);
    if (!views) goto done;
    unsigned char *out = (unsigned char *)PyByteArray_AS_STRING(views);
    int utf8 = 1;
    Py_BEGIN_ALLOW_THREADS
    const unsigned char *start = bytes;
    for (Py_ssize_t line = 0; line < count; line++) {
        const unsigned char *newline = memchr(start, '\n', bytes + end - start);
        Py_ssize_t len = newline - start;
        if (len > 0 && start[len - 1] == '\r') len--;
        if (highs && utf8 && len > 0) { /* the line checked only when a 64-byte piece it is in has such a byte */
            Py_ssize_t first = (start - bytes) / 64, last = (start + len - 1 - bytes) / 64;
            for (Py_ssize_t k = first; k <= last; k++)
                if (highs[k / 64] >> (k % 64) & 1) {
                    utf8 = is_utf8(start, len);
                    break;
                }
        }
        write_view(out + 16 * line, start, len, bytes, 0);
        start = newline + 1;
    }
    Py_END_ALLOW_THREADS
    result = Py_BuildValue("(nOO)", count, views, utf8 ? Py_True : Py_False);
done:
    free(highs);
    Py_XDECREF(views);
    PyBuffer_Release(&data);
    return result;
}

/* invalid_utf8(data, end) -> bytearray of int64 (start, length) pairs: the lines of data[:end], cut as
 * lines() cuts them, that are not UTF-8. For a block polars refused as text: only those lines are then
 * decoded again, with escapes. */
static PyObject *invalid_utf8(PyObject *self, PyObject *args) {
    (void)self;
    Py_buffer data;
    Py_ssize_t end;
    if (!PyArg_ParseTuple(args, "y*n", &data, &end)) return NULL;
    PyObject *found = NULL;
    if (end < 0 || end > data.len) {
        PyErr_SetString(PyExc_ValueError, "invalid_utf8: end outside the data");
        goto done;
    }
    found = PyByteArray_FromStringAndSize(NULL, 0);
    if (!found) goto done;
    const unsigned char *bytes = (const unsigned char *)data.buf, *start = bytes;
    const unsigned char *newline;
    while ((newline = memchr(start, '\n', bytes + end - start)) != NULL) {
        Py_ssize_t len = newline - start;
        if (len > 0 && start[len - 1] == '\r') len--;
        if (!is_utf8(start, len)) {
            int64_t pair[2] = {start - bytes, len};
            Py_ssize_t size = PyByteArray_GET_SIZE(found);
            if (PyByteArray_Resize(found, size + 16) < 0) {
                Py_CLEAR(found);
                goto done;
            }
            memcpy(PyByteArray_AS_STRING(found) + size, pair, 16);
        }
        start = newline + 1;
    }
done:
    PyBuffer_Release(&data);
    return found;
}

/* What addresses() says of one string: 1 and its number, 0 (not an address), or 2 (for the standard
 * library to read). */
static int address_kind(const unsigned char *p, Py_ssize_t len, u128 *value) {
    int ascii = 1, colon = 0;
    for (Py_ssize_t k = 0; k < len; k++) {
        ascii &= p[k] < 0x80;
        colon |= p[k] == ':';
    }
    uint32_t v4;
    *value = 0;
    if (!ascii) return 2;
    if (parse_v4(p, len, &v4)) {
        *value = (u128)0xFFFF << 32 | v4;
        return 1;
    }
    if (!colon) return 0;
    while (len && is_space(*p)) p++, len--;
    while (len && is_space(p[len - 1])) len--;
    while (len && (*p == '[' || *p == ']')) p++, len--;
    while (len && (p[len - 1] == '[' || p[len - 1] == ']')) len--;
    return parse_v6(p, len, value) ? 1 : 2;
}

/* For each string of the one string-view argument (see strings_from): a kind byte and a value of `width`
 * bytes, both written by `read` ((kinds: bytearray[n], values: bytearray[width * n])); the loop of
 * addresses() and integers(). */
typedef int (*ReadValue)(const unsigned char *p, Py_ssize_t len, unsigned char *value);

static PyObject *kinds_and_values(PyObject *args, const char *fn, Py_ssize_t width, ReadValue read) {
    PyObject *kinds = NULL, *values = NULL, *result = NULL;
    Strings texts;
    if (!strings_argument(args, &texts, fn)) goto done;
    Py_ssize_t n = texts.n;
    kinds = PyByteArray_FromStringAndSize(NULL, n);
    values = PyByteArray_FromStringAndSize(NULL, n * width);
    if (!kinds || !values) goto done;
    char *kind = PyByteArray_AS_STRING(kinds);
    unsigned char *value = (unsigned char *)PyByteArray_AS_STRING(values);
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t i = 0; i < n; i++) {
        Py_ssize_t len;
        int32_t buffer;
        const unsigned char *p = string_at(&texts, i, &len, &buffer);
        kind[i] = (char)read(p, len, value + width * i);
    }
    Py_END_ALLOW_THREADS
    result = Py_BuildValue("(OO)", kinds, values);
done:
    Py_XDECREF(kinds);
    Py_XDECREF(values);
    strings_release(&texts);
    return result;
}

static int read_address(const unsigned char *p, Py_ssize_t len, unsigned char *out) {
    u128 value = 0;
    int kind = address_kind(p, len, &value);
    uint64_t words[2] = {(uint64_t)(value >> 64), (uint64_t)value};
    memcpy(out, words, 16);
    return kind;
}

/* addresses(strings) -> (kinds: bytearray[n], numbers: bytearray[16n]) for the n strings of an Arrow
 * string-view array (see strings_from): kind 1 and the 128-bit number (IPv4 mapped into ::ffff:0:0/96, as (high, low)
 * uint64 words) for a dotted quad or plain IPv6 text (trimmed of whitespace and brackets, any case);
 * kind 0 for a string that is neither and holds no colon; kind 2 for anything else (non-ASCII, embedded
 * IPv4, zone ids), which ledger.detect.iplists reads with the standard library. */
static PyObject *addresses(PyObject *self, PyObject *args) {
    (void)self;
    return kinds_and_values(args, "addresses", 16, read_address);
}

/* requests(strings) -> (ok: bytearray[n], views: [method, target, protocol] as bytearray[16n] each)
 * ok when a request is exactly "METHOD /target HTTP/d" or ".../d.d" (the typing's plain request,
 * ^[A-Z]+ /\S* HTTP/\d(?:\.\d)?$, for ASCII: a byte past it says no); the three parts are then views
 * over the strings' own data buffers (or inline), empty where not ok. */
static PyObject *requests(PyObject *self, PyObject *args) {
    (void)self;
    PyObject *ok = NULL, *views = NULL, *result = NULL;
    Strings texts;
    if (!strings_argument(args, &texts, "requests")) goto done;
    Py_ssize_t n = texts.n;
    ok = PyByteArray_FromStringAndSize(NULL, n);
    views = PyList_New(3);
    if (!ok || !views) goto done;
    unsigned char *view_bufs[3];
    if (!new_views(views, 3, n, view_bufs)) goto done;
    char *ok_out = PyByteArray_AS_STRING(ok);
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t i = 0; i < n; i++) {
        Py_ssize_t len;
        int32_t buffer;
        const unsigned char *p = string_at(&texts, i, &len, &buffer), *end = p + len, *q = p;
        while (q < end && *q >= 'A' && *q <= 'Z') q++;
        const unsigned char *method_end = q;
        int good = q > p && end - q >= 2 && q[0] == ' ' && q[1] == '/';
        const unsigned char *target = q + 1, *target_end = target;
        if (good) {
            target_end = skip_run(target, end, 1, 0, 0);
            while (target_end < end && !(*target_end & 0x80) && !is_space(*target_end)) target_end++;
            const unsigned char *v = target_end + 6; /* after " HTTP/" */
            good = end - target_end >= 7 && memcmp(target_end, " HTTP/", 6) == 0 && is_digit(*v)
                   && (end - v == 1 || (end - v == 3 && v[1] == '.' && is_digit(v[2])));
        }
        ok_out[i] = (char)good;
        const unsigned char *base = buffer >= 0 ? (const unsigned char *)texts.bufs[buffer].buf : NULL;
        Span parts[3] = {{p, method_end - p}, {target, target_end - target}, {target_end + 1, end - target_end - 1}};
        int index[3] = {0, 1, 2};
        int64_t sizes[3] = {0, 0, 0};
        emit_views(view_bufs, i, good, parts, index, 3, base, buffer, sizes);
    }
    Py_END_ALLOW_THREADS
    result = Py_BuildValue("(OO)", ok, views);
done:
    Py_XDECREF(ok);
    Py_XDECREF(views);
    strings_release(&texts);
    return result;
}

/* triage_fields(clients, agents, triage) -> bytearray[n]: the native half of the triage's tests on fields
 * as read (JSON, W3C, text layouts the splitter does not run), for two string-view arrays of n each (see
 * strings_from): bit 0 when the client (an address or a chain) is plain and outside the ranges (see
 * chain_outside), bit 1 when the user agent is a known person's, bit 2 when it is a known other bot's or
 * there is none ("-", empty, null), bit 3 when it is a known declared bot's. triage: as for split (its field
 * indices are not read). */
static PyObject *triage_fields(PyObject *self, PyObject *args) {
    (void)self;
    PyObject *client_arg, *agent_arg, *spec, *flags = NULL, *result = NULL;
    Strings clients, agents;
    memset(&clients, 0, sizeof clients);
    memset(&agents, 0, sizeof agents);
    if (!PyArg_ParseTuple(args, "OOO", &client_arg, &agent_arg, &spec)) return NULL;
    Triage *triage = triage_new();
    if (!triage) goto done;
    if (!strings_pair(client_arg, agent_arg, &clients, &agents, "triage_fields", "as many clients as user agents"))
        goto done;
    if (spec == Py_None || !triage_from(spec, triage)) {
        if (!PyErr_Occurred()) PyErr_SetString(PyExc_ValueError, "triage_fields: no triage");
        goto done;
    }
    Py_ssize_t n = clients.n;
    flags = PyByteArray_FromStringAndSize(NULL, n);
    if (!flags) goto done;
    unsigned char *out = (unsigned char *)PyByteArray_AS_STRING(flags);
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t i = 0; i < n; i++) {
        Py_ssize_t len;
        int32_t buffer;
        const unsigned char *client = string_at(&clients, i, &len, &buffer);
        int outside = chain_outside(triage, client, len);
        const unsigned char *agent = string_at(&agents, i, &len, &buffer);
        out[i] = (unsigned char)((unsigned)outside | kind_bits(agent_kind(triage, agent, len), 1));
    }
    Py_END_ALLOW_THREADS
    result = flags;
    flags = NULL;
done:
    triage_free(triage);
    Py_XDECREF(flags);
    strings_release(&clients);
    strings_release(&agents);
    return result;
}

/* Whether element i of s is not null. */
static inline int is_valid(const Strings *s, Py_ssize_t i) {
    Py_ssize_t bit = s->offset + i;
    return !s->validity.obj || (((const unsigned char *)s->validity.buf)[bit >> 3] >> (bit & 7)) & 1;
}

static inline int has_byte(const unsigned char *p, Py_ssize_t len, int byte) {
    return len > 0 && memchr(p, byte, (size_t)len) != NULL;
}

static inline int has_utm(const unsigned char *p, Py_ssize_t len) { /* memchr first: most have no '_' at all */
    return len >= 11 && memchr(p, '_', (size_t)len) && memmem(p, (size_t)len, "utm_source=", 11) != NULL;
}

enum { T_REQUEST, T_PATH, T_QUERY, T_CLIENT, T_FORWARDED, T_HOST, T_REFERER, T_AGENT, T_COLUMNS };

/* triage_targets(requests, paths, queries, clients, forwarded, hosts, referers, agents, triage) -> bytes
 * or None: the triage's tests on JSON and W3C lines with their fields as read (ledger.parse.Parser: the
 * target rows of ledger.parse.typed.target_rows, whose fields typing leaves as they are, tested as
 * Detector.quiet tests them), one byte a row: bit 0 when the row is a target row (no request, a path
 * from the root, a bare address, no forwarded chain, no backslash in its Referer or user agent) and
 * passes the tests (no backslash or utm_source= in its path and query, no AI product's host in its
 * Referer, a host that is not "-" or empty, the address outside the AI-only lists), then bits 1 to 3 for
 * those as split's bits 2 to 4 (a known person's user agent; a known other bot's, or none; a known
 * declared bot's), and bit 4 for every target row, whether it passes or not. None when the triage
 * tests nothing natively (see triage_from). */
static PyObject *triage_targets(PyObject *self, PyObject *args) {
    (void)self;
    PyObject *arg[T_COLUMNS], *spec, *flags = NULL, *result = NULL;
    Strings s[T_COLUMNS];
    memset(s, 0, sizeof s);
    if (!PyArg_ParseTuple(args, "OOOOOOOOO", &arg[0], &arg[1], &arg[2], &arg[3], &arg[4], &arg[5], &arg[6], &arg[7],
                          &spec))
        return NULL;
    Triage *triage = triage_new();
    if (!triage) goto done;
    for (int c = 0; c < T_COLUMNS; c++) {
        if (!strings_from(arg[c], &s[c], "triage_targets")) goto done;
        if (s[c].n != s[0].n) {
            PyErr_SetString(PyExc_ValueError, "triage_targets: columns of different lengths");
            goto done;
        }
    }
    if (spec == Py_None || !triage_from(spec, triage)) {
        if (!PyErr_Occurred()) PyErr_SetString(PyExc_ValueError, "triage_targets: no triage");
        goto done;
    }
    if (!triage->on) {
        Py_INCREF(Py_None);
        result = Py_None;
        goto done;
    }
    Py_ssize_t n = s[0].n;
    flags = PyByteArray_FromStringAndSize(NULL, n);
    if (!flags) goto done;
    unsigned char *out = (unsigned char *)PyByteArray_AS_STRING(flags);
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t i = 0; i < n; i++) {
        const unsigned char *v[T_COLUMNS];
        Py_ssize_t len[T_COLUMNS];
        int valid[T_COLUMNS];
        for (int c = 0; c < T_COLUMNS; c++) {
            int32_t buffer;
            valid[c] = is_valid(&s[c], i);
            v[c] = string_at(&s[c], i, &len[c], &buffer);
        }
        out[i] = 0;
        int query = valid[T_QUERY] && len[T_QUERY] && !(len[T_QUERY] == 1 && v[T_QUERY][0] == '-');
        if (valid[T_REQUEST] || !valid[T_PATH] || !len[T_PATH] || v[T_PATH][0] != '/' || !valid[T_CLIENT]
            || !bare_address(v[T_CLIENT], len[T_CLIENT])
            || (valid[T_FORWARDED] && !(len[T_FORWARDED] == 1 && v[T_FORWARDED][0] == '-'))
            || has_byte(v[T_REFERER], len[T_REFERER], '\\') || has_byte(v[T_AGENT], len[T_AGENT], '\\'))
            continue;
        out[i] = 16; /* a target row */
        if (has_byte(v[T_PATH], len[T_PATH], '\\') || has_utm(v[T_PATH], len[T_PATH])
            || (query && (has_byte(v[T_QUERY], len[T_QUERY], '\\') || has_utm(v[T_QUERY], len[T_QUERY])))
            || (valid[T_HOST] && (!len[T_HOST] || (len[T_HOST] == 1 && v[T_HOST][0] == '-')))
            || mentions(triage, v[T_REFERER], len[T_REFERER]) || !chain_outside(triage, v[T_CLIENT], len[T_CLIENT]))
            continue;
        out[i] = (unsigned char)(16 | 1 | kind_bits(agent_kind(triage, v[T_AGENT], len[T_AGENT]), 1));
    }
    Py_END_ALLOW_THREADS
    result = flags;
    flags = NULL;
done:
    triage_free(triage);
    Py_XDECREF(flags);
    for (int c = 0; c < T_COLUMNS; c++) strings_release(&s[c]);
    return result;
}

/* agent_index(agents, offsets, kinds) -> bytes: the slots of the known user agents' hash table (see
 * index_agents), made once for a table many calls look up in: pass them after the kinds (in a triage's
 * spec, or to agent_slots) and no call hashes every known user agent again. */
static PyObject *agent_index(PyObject *self, PyObject *args) {
    (void)self;
    PyObject *result = NULL;
    Triage *table = triage_new();
    if (!table) return NULL;
    if (PyArg_ParseTuple(args, "y*y*y*", &table->agents_buf, &table->offsets_buf, &table->kinds_buf)
        && index_agents(table, &table->agents_buf, &table->offsets_buf, &table->kinds_buf, NULL)) {
        Py_ssize_t size = table->slots ? (Py_ssize_t)table->slot_mask + 1 : 0;
        result = PyBytes_FromStringAndSize((const char *)table->slots, size * 4);
    }
    triage_free(table);
    return result;
}

/* agent_slots(strings, agents, offsets, kinds, slots=b"") -> bytearray[4n] int32: for each string of a
 * string-view array (see strings_from; a null reads as ""), the position + 1 in the known user agents (as
 * in the triage: end to end, count + 1 int64 offsets, a kind byte each, and agent_index's slots or none)
 * of the first one equal to it, 0 when none is. */
static PyObject *agent_slots(PyObject *self, PyObject *args) {
    (void)self;
    PyObject *strings, *slots = NULL, *result = NULL;
    Strings texts;
    memset(&texts, 0, sizeof texts);
    Triage *table = triage_new();
    if (!table) return NULL;
    if (!PyArg_ParseTuple(args, "Oy*y*y*|y*", &strings, &table->agents_buf, &table->offsets_buf, &table->kinds_buf,
                          &table->slots_buf))
        goto done;
    if (!index_agents(table, &table->agents_buf, &table->offsets_buf, &table->kinds_buf, &table->slots_buf))
        goto done;
    if (!strings_from(strings, &texts, "agent_slots")) goto done;
    Py_ssize_t n = texts.n;
    slots = PyByteArray_FromStringAndSize(NULL, n * 4);
    if (!slots) goto done;
    int32_t *out = (int32_t *)PyByteArray_AS_STRING(slots);
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t i = 0; i < n; i++) {
        Py_ssize_t len;
        int32_t buffer;
        const unsigned char *agent = string_at(&texts, i, &len, &buffer);
        out[i] = (int32_t)agent_slot(table, agent, len);
    }
    Py_END_ALLOW_THREADS
    result = slots;
    slots = NULL;
done:
    triage_free(table);
    Py_XDECREF(slots);
    strings_release(&texts);
    return result;
}

/* w3c_stamps(dates, times) -> (ok: bytearray[n], micros: bytearray[8n] int64) for two string-view arrays
 * of n each (see strings_from): ok 1 and the microseconds (no offset applied) where the date and time
 * are plain (see parse_w3c); ok 0 for anything else, which ledger.parse.w3c reads with polars. */
static PyObject *w3c_stamps(PyObject *self, PyObject *args) {
    (void)self;
    PyObject *date_arg, *time_arg, *ok = NULL, *stamps = NULL, *result = NULL;
    Strings dates, times;
    if (!PyArg_ParseTuple(args, "OO", &date_arg, &time_arg)) return NULL;
    if (!strings_pair(date_arg, time_arg, &dates, &times, "w3c_stamps", "as many dates as times")) goto done;
    Py_ssize_t n = dates.n;
    ok = PyByteArray_FromStringAndSize(NULL, n);
    stamps = PyByteArray_FromStringAndSize(NULL, n * 8);
    if (!ok || !stamps) goto done;
    char *ok_out = PyByteArray_AS_STRING(ok);
    int64_t *out = (int64_t *)PyByteArray_AS_STRING(stamps);
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t i = 0; i < n; i++) {
        Py_ssize_t dlen, tlen;
        int32_t buffer;
        const unsigned char *d = string_at(&dates, i, &dlen, &buffer);
        const unsigned char *t = string_at(&times, i, &tlen, &buffer);
        out[i] = 0;
        ok_out[i] = (char)parse_w3c(d, dlen, t, tlen, &out[i]);
    }
    Py_END_ALLOW_THREADS
    result = Py_BuildValue("(OO)", ok, stamps);
done:
    Py_XDECREF(ok);
    Py_XDECREF(stamps);
    strings_release(&dates);
    strings_release(&times);
    return result;
}

/* The mask of the segment n lies in (cover_masks), 0 in none. */
static inline uint64_t segment_mask(u128 value, const uint64_t *starts, const uint64_t *ends, const uint64_t *masks,
                                    Py_ssize_t segments) {
    Py_ssize_t lo = 0, hi = segments; /* the first segment starting after value, then the one before */
    while (lo < hi) {
        Py_ssize_t mid = (lo + hi) / 2;
        if (range_word(starts, mid) <= value) lo = mid + 1;
        else hi = mid;
    }
    return lo > 0 && value <= range_word(ends, lo - 1) ? masks[lo - 1] : 0;
}

/* cover_masks(numbers, starts, ends, masks) -> bytearray[8n]: for each of the n 128-bit numbers (a
 * buffer of 16n bytes, (high, low) uint64 word pairs as addresses() gives them), the uint64 mask of the
 * segment it lies in, 0 in none. The segments are disjoint and sorted by start: starts and ends as word
 * pairs, masks one uint64 each (ledger.detect.iplists.CoverTable). */
static PyObject *cover_masks(PyObject *self, PyObject *args) {
    (void)self;
    Py_buffer numbers = {0}, starts = {0}, ends = {0}, masks = {0};
    PyObject *out = NULL;
    if (!PyArg_ParseTuple(args, "y*y*y*y*", &numbers, &starts, &ends, &masks)) return NULL;
    Py_ssize_t segments = masks.len / 8;
    if (numbers.len % 16 || masks.len % 8 || starts.len != 16 * segments || ends.len != 16 * segments) {
        PyErr_SetString(PyExc_ValueError, "cover_masks: numbers, starts and ends must be 16-byte pairs, one per mask");
        goto done;
    }
    Py_ssize_t n = numbers.len / 16;
    out = PyByteArray_FromStringAndSize(NULL, n * 8);
    if (!out) goto done;
    uint64_t *result = (uint64_t *)PyByteArray_AS_STRING(out);
    const uint64_t *words = numbers.buf, *lo_words = starts.buf, *hi_words = ends.buf, *mask = masks.buf;
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t i = 0; i < n; i++) result[i] = segment_mask(range_word(words, i), lo_words, hi_words, mask, segments);
    Py_END_ALLOW_THREADS
done:
    PyBuffer_Release(&numbers);
    PyBuffer_Release(&starts);
    PyBuffer_Release(&ends);
    PyBuffer_Release(&masks);
    return out;
}

/* One element of a chain as detection reads it (ledger.detect.addresses._pick): blanks trimmed, then
 * double quotes. */
static inline void trim_element(const unsigned char **p, const unsigned char **end) {
    while (*p < *end && is_space(**p)) (*p)++;
    while (*end > *p && is_space((*end)[-1])) (*end)--;
    while (*p < *end && **p == '"') (*p)++;
    while (*end > *p && (*end)[-1] == '"') (*end)--;
}

/* pick_clients(forwarded, clients, starts, ends, masks) -> (picks: bytearray[n], starts: bytearray[4n],
 * lengths: bytearray[4n]) for two string-view arrays of n each (see strings_from; a null reads as
 * empty) and the non-public segments (as cover_masks takes them). The elements of forwarded then clients
 * (split at commas, trimmed) that are not empty, "-" or "unknown" are the row's hops; the client is the
 * right-most public one (an address outside the segments), else the right-most hop: pick 1 when it is in
 * forwarded, 2 in clients, with its start and length (int32) there; 0 when the row has no hop; 3 when a
 * hop is one only the standard library reads (addresses() kind 2, which every non-ASCII byte makes: so
 * the strings of the other rows are ASCII), for polars to decide. */
static PyObject *pick_clients(PyObject *self, PyObject *args) {
    (void)self;
    PyObject *forwarded_arg, *client_arg, *picks = NULL, *starts_out = NULL, *lengths = NULL, *result = NULL;
    Py_buffer starts = {0}, ends = {0}, masks = {0};
    Strings forwarded, clients;
    memset(&forwarded, 0, sizeof forwarded);
    memset(&clients, 0, sizeof clients);
    if (!PyArg_ParseTuple(args, "OOy*y*y*", &forwarded_arg, &client_arg, &starts, &ends, &masks)) return NULL;
    Py_ssize_t segments = masks.len / 8;
    if (masks.len % 8 || starts.len != 16 * segments || ends.len != 16 * segments) {
        PyErr_SetString(PyExc_ValueError, "pick_clients: starts and ends must be 16-byte pairs, one per mask");
        goto done;
    }
    if (!strings_pair(forwarded_arg, client_arg, &forwarded, &clients, "pick_clients",
                      "as many forwarded chains as clients"))
        goto done;
    Py_ssize_t n = clients.n;
    picks = PyByteArray_FromStringAndSize(NULL, n);
    starts_out = PyByteArray_FromStringAndSize(NULL, n * 4);
    lengths = PyByteArray_FromStringAndSize(NULL, n * 4);
    if (!picks || !starts_out || !lengths) goto done;
    unsigned char *pick = (unsigned char *)PyByteArray_AS_STRING(picks);
    int32_t *at = (int32_t *)PyByteArray_AS_STRING(starts_out), *size = (int32_t *)PyByteArray_AS_STRING(lengths);
    const uint64_t *lo_words = starts.buf, *hi_words = ends.buf, *mask = masks.buf;
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t i = 0; i < n; i++) {
        const Strings *sources[2] = {&forwarded, &clients};
        int found = 0, best_public = 0, odd = 0;
        const unsigned char *best = NULL, *best_end = NULL, *base = NULL;
        for (int source = 0; source < 2 && !odd; source++) {
            Py_ssize_t len;
            int32_t buffer;
            const unsigned char *text = string_at(sources[source], i, &len, &buffer), *end = text + len;
            for (const unsigned char *p = text; !odd;) {
                const unsigned char *comma = memchr(p, ',', end - p), *last = comma ? comma : end, *first = p;
                trim_element(&first, &last);
                Py_ssize_t hop = last - first;
                if (hop && !(hop == 1 && first[0] == '-') && !(hop == 7 && memcmp(first, "unknown", 7) == 0)) {
                    u128 value;
                    int kind = address_kind(first, hop, &value);
                    if (kind == 2) odd = 1;
                    int public = kind == 1 && !segment_mask(value, lo_words, hi_words, mask, segments);
                    if (public || !best_public) {
                        best = first, best_end = last, base = text, best_public = public;
                        found = source + 1;
                    }
                }
                if (!comma) break;
                p = comma + 1;
            }
        }
        pick[i] = (unsigned char)(odd ? 3 : found);
        at[i] = found && !odd ? (int32_t)(best - base) : 0;
        size[i] = found && !odd ? (int32_t)(best_end - best) : 0;
    }
    Py_END_ALLOW_THREADS
    result = Py_BuildValue("(OOO)", picks, starts_out, lengths);
done:
    Py_XDECREF(picks);
    Py_XDECREF(starts_out);
    Py_XDECREF(lengths);
    PyBuffer_Release(&starts);
    PyBuffer_Release(&ends);
    PyBuffer_Release(&masks);
    strings_release(&forwarded);
    strings_release(&clients);
    return result;
}

/* Tracking parameters (ledger.detect.classify.TRACKING_PARAMS): "utm_" and what follows up to a '=' or
 * '&', or one of these names, in the regex's order, ASCII case-insensitively. */
static const char *const TRACKING[] = {"fbclid", "gclid",  "yclid",  "dclid",  "msclkid", "_openstat",
                                       "mc_cid", "mc_eid", "igshid", "ref_src"};

static int starts_with_ci(const unsigned char *p, const unsigned char *end, const char *word) {
    for (; *word; word++, p++)
        if (p >= end || lower(*p) != (unsigned char)*word) return 0;
    return 1;
}

/* The end of a tracking parameter's name at p, or NULL when none starts there. */
static const unsigned char *tracking_name(const unsigned char *p, const unsigned char *end) {
    if (starts_with_ci(p, end, "utm_")) {
        for (p += 4; p < end && *p != '=' && *p != '&'; p++) {
        }
        return p;
    }
    for (size_t k = 0; k < sizeof TRACKING / sizeof *TRACKING; k++)
        if (starts_with_ci(p, end, TRACKING[k])) return p + strlen(TRACKING[k]);
    return NULL;
}

/* A query with its tracking parameters taken out, as replace_all(TRACKING_PARAMS, "") then
 * strip_chars_start("&") make it: each leftmost match of (?:^|&)NAME(?:=[^&]*)? removed, left to right.
 * Written to out (room for len bytes); its length. */
static Py_ssize_t without_tracking(const unsigned char *query, Py_ssize_t len, unsigned char *out) {
    const unsigned char *end = query + len;
    Py_ssize_t written = 0;
    for (const unsigned char *p = query; p < end;) {
        const unsigned char *name = p == query ? tracking_name(p, end) : NULL;
        if (name == NULL && *p == '&') name = tracking_name(p + 1, end);
        if (name == NULL) {
            out[written++] = *p++;
            continue;
        }
        if (name < end && *name == '=')
            for (name++; name < end && *name != '&'; name++) {
            }
        p = name;
    }
    Py_ssize_t skip = 0;
    while (skip < written && out[skip] == '&') skip++;
    memmove(out, out + skip, (size_t)(written - skip));
    return written - skip;
}

/* urls(hosts, paths) -> (status: bytearray[n], views: bytearray[16n], data: bytearray) for two string-view
 * arrays of n each (see strings_from; nulls read as empty, so ledger.detect.classify passes rows with both):
 * status 1 and "https://" host path-before-'?'-or-'#' ["?" query] (the query: after the path's first '?',
 * up to a '#', without tracking parameters; left out when empty) as a view into data; 0 when the path does
 * not start with '/'; 2 when it has a non-ASCII byte (the regexes fold case beyond ASCII: polars decides). */
static PyObject *urls(PyObject *self, PyObject *args) {
    (void)self;
    PyObject *host_arg, *path_arg, *status = NULL, *views = NULL, *data = NULL, *result = NULL;
    Strings hosts, paths;
    if (!PyArg_ParseTuple(args, "OO", &host_arg, &path_arg)) return NULL;
    if (!strings_pair(host_arg, path_arg, &hosts, &paths, "urls", "as many hosts as paths")) goto done;
    Py_ssize_t n = hosts.n, room = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        Py_ssize_t hlen, plen;
        int32_t buffer;
        string_at(&hosts, i, &hlen, &buffer);
        string_at(&paths, i, &plen, &buffer);
        room += 9 + hlen + plen;
    }
    if (room > INT32_MAX) {
        PyErr_SetString(PyExc_ValueError, "urls: more than 2 GB of URLs at once");
        goto done;
    }
    status = PyByteArray_FromStringAndSize(NULL, n);
    views = PyByteArray_FromStringAndSize(NULL, n * 16);
    data = PyByteArray_FromStringAndSize(NULL, room);
    if (!status || !views || !data) goto done;
    unsigned char *state = (unsigned char *)PyByteArray_AS_STRING(status), *view = (unsigned char *)PyByteArray_AS_STRING(views);
    unsigned char *base = (unsigned char *)PyByteArray_AS_STRING(data), *at = base;
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t i = 0; i < n; i++, view += 16) {
        Py_ssize_t hlen, plen;
        int32_t buffer;
        const unsigned char *host = string_at(&hosts, i, &hlen, &buffer);
        const unsigned char *path = string_at(&paths, i, &plen, &buffer), *end = path + plen;
        int ascii = 1;
        for (Py_ssize_t k = 0; k < plen; k++) ascii &= path[k] < 0x80;
        state[i] = plen == 0 || path[0] != '/' ? 0 : ascii ? 1 : 2;
        if (state[i] != 1) {
            memset(view, 0, 16);
            continue;
        }
        const unsigned char *stop = path;
        while (stop < end && *stop != '?' && *stop != '#') stop++;
        const unsigned char *mark = memchr(path, '?', (size_t)plen), *query = mark ? mark + 1 : end, *qend = query;
        while (qend < end && *qend != '#') qend++;
        unsigned char *url = at;
        memcpy(at, "https://", 8), at += 8;
        memcpy(at, host, (size_t)hlen), at += hlen;
        memcpy(at, path, (size_t)(stop - path)), at += stop - path;
        Py_ssize_t kept = mark ? without_tracking(query, qend - query, at + 1) : 0;
        if (kept) *at = '?', at += kept + 1;
        write_view(view, url, at - url, base, 0);
    }
    Py_END_ALLOW_THREADS
    result = Py_BuildValue("(OOO)", status, views, data);
done:
    Py_XDECREF(status);
    Py_XDECREF(views);
    Py_XDECREF(data);
    strings_release(&hosts);
    strings_release(&paths);
    return result;
}

/* Python's urllib.parse.unquote_to_bytes of p into out (room for len bytes: it never grows): every "%XX"
 * with two hex digits becomes its byte, any other "%" stays; the length written. out may be p. */
static Py_ssize_t percent_decode(const unsigned char *p, Py_ssize_t len, unsigned char *out) {
    Py_ssize_t w = 0;
    for (Py_ssize_t k = 0; k < len; k++) {
        int high, low;
        if (p[k] == '%' && len - k > 2 && (high = hex_value(p[k + 1])) >= 0 && (low = hex_value(p[k + 2])) >= 0) {
            out[w++] = (unsigned char)(high << 4 | low);
            k += 2;
        } else {
            out[w++] = p[k];
        }
    }
    return w;
}

/* unquote(strings) -> (status: bytearray[n], views: bytearray[16n], data): each value URL-decoded as
 * ledger.parse.w3c's _unquote_twice does it (Python's unquote, and again when the value holds "%2" and
 * the first decoding still a "%"), status 0 for a value without "%" or null (its view the value's own,
 * over its data buffers), 1 for one decoded here (its view over data: buffer index one past the
 * strings'), 2 for one whose decoded bytes are not UTF-8 (Python replaces them: an empty view). Each
 * distinct value with a "%" is decoded once (a column of user agents holds a few hundred distinct ones):
 * the others take its view. */
static PyObject *unquote(PyObject *self, PyObject *args) {
    (void)self;
    PyObject *status = NULL, *views = NULL, *data = NULL, *result = NULL;
    uint32_t *slots = NULL;
    Strings texts;
    if (!strings_argument(args, &texts, "unquote")) goto done;
    Py_ssize_t n = texts.n, room = 12; /* where a value of up to 12 bytes is decoded before its view is inline */
    for (Py_ssize_t i = 0; i < n; i++) {
        Py_ssize_t len;
        int32_t buffer;
        string_at(&texts, i, &len, &buffer);
        if (len > 12) room += len; /* a decoded value is no longer, and one of up to 12 bytes is inline */
    }
    if (room > INT32_MAX || n > INT32_MAX / 2 || texts.nbufs >= INT32_MAX) {
        PyErr_SetString(PyExc_ValueError, "unquote: more than 2 GB of values at once");
        goto done;
    }
    uint64_t size = 16;
    while (size < 2 * (uint64_t)n) size *= 2;
    status = PyByteArray_FromStringAndSize(NULL, n);
    views = PyByteArray_FromStringAndSize(NULL, n * 16);
    data = PyByteArray_FromStringAndSize(NULL, room);
    slots = PyMem_Calloc(size, sizeof(uint32_t)); /* row + 1 of the first of each distinct value decoded */
    if (!status || !views || !data || !slots) {
        if (!slots) PyErr_NoMemory();
        goto done;
    }
    unsigned char *state = (unsigned char *)PyByteArray_AS_STRING(status), *out = (unsigned char *)PyByteArray_AS_STRING(views);
    unsigned char *base = (unsigned char *)PyByteArray_AS_STRING(data), *at = base;
    const unsigned char *given = (const unsigned char *)texts.views.buf + 16 * texts.offset;
    int32_t decoded_buffer = (int32_t)texts.nbufs;
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t i = 0; i < n; i++) {
        Py_ssize_t len;
        int32_t buffer;
        const unsigned char *text = string_at(&texts, i, &len, &buffer);
        unsigned char *view = out + 16 * i;
        if (!len || !memchr(text, '%', (size_t)len)) { /* as it is (a null: an empty view, masked by the caller) */
            state[i] = 0;
            if (len) memcpy(view, given + 16 * i, 16);
            else memset(view, 0, 16);
            continue;
        }
        uint64_t slot = hash_bytes(text, len) & (size - 1);
        for (; slots[slot]; slot = (slot + 1) & (size - 1)) {
            Py_ssize_t seen_len;
            int32_t seen_buffer;
            Py_ssize_t j = (Py_ssize_t)slots[slot] - 1;
            const unsigned char *seen = string_at(&texts, j, &seen_len, &seen_buffer);
            if (seen_len == len && memcmp(seen, text, (size_t)len) == 0) break;
        }
        if (slots[slot]) { /* decoded before */
            Py_ssize_t j = (Py_ssize_t)slots[slot] - 1;
            state[i] = state[j];
            memcpy(view, out + 16 * j, 16);
            continue;
        }
        slots[slot] = (uint32_t)(i + 1);
        Py_ssize_t once = percent_decode(text, len, at), decoded = once;
        int ok = is_utf8(at, once);
        if (ok && memchr(at, '%', (size_t)once) && memmem(text, (size_t)len, "%2", 2)) { /* encoded twice */
            decoded = percent_decode(at, once, at);
            ok = is_utf8(at, decoded);
        }
        state[i] = ok ? 1 : 2;
        memset(view, 0, 16);
        if (!ok) continue;
        write_view(view, at, decoded, base, decoded_buffer);
        if (decoded > 12) at += decoded; /* else inline: its bytes in data may be written over */
    }
    Py_END_ALLOW_THREADS
    /* only the distinct values' room: the rest, never touched, would stay reserved as long as a view does */
    if (PyByteArray_Resize(data, at - base) < 0) goto done;
    result = Py_BuildValue("(OOO)", status, views, data);
done:
    PyMem_Free(slots);
    Py_XDECREF(status);
    Py_XDECREF(views);
    Py_XDECREF(data);
    strings_release(&texts);
    return result;
}

static int read_integer(const unsigned char *p, Py_ssize_t len, unsigned char *out) {
    int64_t number = 0;
    int kind = len == 0 || (len == 1 && p[0] == '-') ? 1 : len > 18 ? 2 : 0;
    for (Py_ssize_t j = 0; kind == 0 && j < len; j++) {
        if (!is_digit(p[j])) kind = 2;
        else number = number * 10 + (p[j] - '0');
    }
    if (kind != 0) number = 0;
    memcpy(out, &number, 8);
    return kind;
}

/* integers(strings) -> (kinds: bytearray[n], values: bytearray[8n] int64) for a string-view array (see
 * strings_from; a null reads as empty): 0 and its value for one to eighteen decimal digits and nothing
 * else, 1 for "-" or empty (a number the field does not have), 2 for anything else (a sign, a blank, a
 * non-ASCII digit...), which polars reads; values are 0 where the kind is not 0. */
static PyObject *integers(PyObject *self, PyObject *args) {
    (void)self;
    return kinds_and_values(args, "integers", 8, read_integer);
}

/* address_kinds(strings) -> bytearray[n] for a string-view array (see strings_from; a null reads as
 * empty): what ledger.parse.typed._address makes of each value. 0: the value itself (ASCII, no blank or
 * quote at either end, and either one value with no '[' and not both '.' and ':' (no port to take off),
 * or a chain whose every comma has a non-blank before it and exactly one space and a non-blank after
 * it); 1: null ("-", "" or "unknown"); 2: anything else, which polars reads. */
static PyObject *address_kinds(PyObject *self, PyObject *args) {
    (void)self;
    PyObject *kinds = NULL;
    Strings texts;
    if (!strings_argument(args, &texts, "address_kinds")) goto done;
    Py_ssize_t n = texts.n;
    kinds = PyByteArray_FromStringAndSize(NULL, n);
    if (!kinds) goto done;
    unsigned char *kind = (unsigned char *)PyByteArray_AS_STRING(kinds);
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t i = 0; i < n; i++) {
        Py_ssize_t len;
        int32_t buffer;
        const unsigned char *p = string_at(&texts, i, &len, &buffer);
        if (len == 0 || (len == 1 && p[0] == '-') || (len == 7 && memcmp(p, "unknown", 7) == 0)) {
            kind[i] = 1;
            continue;
        }
        int odd = is_space(p[0]) || p[0] == '"' || is_space(p[len - 1]) || p[len - 1] == '"';
        int commas = 0, dots = 0, colons = 0, brackets = 0;
        for (Py_ssize_t k = 0; k < len && !odd; k++) {
            unsigned char c = p[k];
            if (c >= 0x80) odd = 1;
            else if (c == ',') {
                commas = 1;
                odd = k == 0 || is_space(p[k - 1]) || k + 2 >= len || p[k + 1] != ' ' || is_space(p[k + 2]);
            } else
                dots |= c == '.', colons |= c == ':', brackets |= c == '[';
        }
        kind[i] = odd || (!commas && (brackets || (dots && colons))) ? 2 : 0;
    }
    Py_END_ALLOW_THREADS
done:
    strings_release(&texts);
    return kinds;
}

/* mend(buffer, start, filled, open) -> (kept, runs, nulls, cuts, open): Holes.mend of ledger/blocks.py (its
 * docstring has the rule), in one pass over the writable buffer: the runs of null bytes in
 * buffer[start:filled] taken out in place, the text kept moved down behind a write pointer. open: the last
 * block ended inside a run. kept: the new end of the text; runs, nulls, cuts: what this block adds to the
 * counts. A binary file read as a log has millions of short runs: in Python, 4 us each (8 s for a 69 MB
 * shared library before its format was found wrong). */
static Py_ssize_t run_end(const unsigned char *b, Py_ssize_t at, Py_ssize_t filled) {
    uint64_t word;
    for (; at + 8 <= filled; at += 8) { /* a copytruncate's hole can be gigabytes: 8 bytes at a time */
        memcpy(&word, b + at, 8);
        if (word) break;
    }
    while (at < filled && !b[at]) at++;
    return at;
}

static Py_ssize_t after_run(const unsigned char *b, Py_ssize_t end, Py_ssize_t kept, Py_ssize_t *cuts) {
    if (b[end] == '\n' || b[end] == '\r') return kept; /* the hole ends its line: what came before it stays */
    Py_ssize_t line = kept;
    while (line > 0 && b[line - 1] != '\n') line--; /* the line's start: the text before the hole is cut off */
    *cuts += line < kept;
    return line;
}

static Py_ssize_t move_down(unsigned char *b, Py_ssize_t from, Py_ssize_t to_end, Py_ssize_t kept) {
    if (kept != from) memmove(b + kept, b + from, (size_t)(to_end - from));
    return kept + to_end - from;
}

static PyObject *mend(PyObject *self, PyObject *args) {
    (void)self;
    Py_buffer data;
    Py_ssize_t start, filled;
    int open;
    if (!PyArg_ParseTuple(args, "w*nnp", &data, &start, &filled, &open)) return NULL;
    if (start < 0 || start > filled || filled > data.len) {
        PyBuffer_Release(&data);
        PyErr_SetString(PyExc_ValueError, "mend: start and filled outside the buffer");
        return NULL;
    }
    unsigned char *b = (unsigned char *)data.buf;
    Py_ssize_t kept = start, read = start, runs = 0, nulls = 0, cuts = 0, end;
    Py_BEGIN_ALLOW_THREADS
    int done = 0;
    if (open) { /* this block may go on with the last one's run */
        end = run_end(b, start, filled);
        nulls += end - start;
        if (end == filled) done = 1;
        else {
            open = 0;
            kept = after_run(b, end, start, &cuts);
            read = end;
        }
    }
    while (!done) {
        const unsigned char *zero = memchr(b + read, 0, (size_t)(filled - read));
        if (!zero) {
            kept = move_down(b, read, filled, kept);
            break;
        }
        Py_ssize_t at = zero - b;
        kept = move_down(b, read, at, kept);
        runs++;
        end = run_end(b, at, filled);
        nulls += end - at;
        if (end == filled) {
            open = 1;
            break;
        }
        kept = after_run(b, end, kept, &cuts);
        read = end;
    }
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&data);
    return Py_BuildValue("(nnnnO)", kept, runs, nulls, cuts, open ? Py_True : Py_False);
}

static PyMethodDef METHODS[] = {
    {"split", split, METH_VARARGS, "Run a split-plan program over a batch of lines (see the module source)."},
    {"lines", lines, METH_VARARGS, "Binary views of the newline-terminated lines of a block."},
    {"mend", mend, METH_VARARGS, "Runs of null bytes taken out of a block in place (see the source)."},
    {"addresses", addresses, METH_VARARGS, "IP addresses as 128-bit numbers (see the module source)."},
    {"columns", columns, METH_VARARGS, "Cut separator-split lines into the wanted columns (see the source)."},
    {"invalid_utf8", invalid_utf8, METH_VARARGS, "Which strings are not well-formed UTF-8."},
    {"requests", requests, METH_VARARGS, "Plain requests cut into method, target and protocol (see the source)."},
    {"triage_fields", triage_fields, METH_VARARGS, "The triage's address and user agent tests (see the source)."},
    {"triage_targets", triage_targets, METH_VARARGS, "The triage's tests on JSON and W3C fields (see the source)."},
    {"agent_slots", agent_slots, METH_VARARGS, "Where each string is among known user agents (see the source)."},
    {"agent_index", agent_index, METH_VARARGS, "The hash table of known user agents (see the source)."},
    {"pick_clients", pick_clients, METH_VARARGS, "The client of each address field and forwarded chain (see the source)."},
    {"address_kinds", address_kinds, METH_VARARGS, "What address typing makes of each value (see the source)."},
    {"integers", integers, METH_VARARGS, "Plain decimal numbers and missing ones (see the source)."},
    {"unquote", unquote, METH_VARARGS, "URL-decoded values, once or twice (see the source)."},
    {"urls", urls, METH_VARARGS, "Canonical URLs of hosts and paths (see the source)."},
    {"cover_masks", cover_masks, METH_VARARGS, "The mask of the segment each 128-bit number lies in (see the source)."},
    {"w3c_stamps", w3c_stamps, METH_VARARGS, "W3C dates and times as microseconds (see the source)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef MODULE = {
    PyModuleDef_HEAD_INIT, "_native", "Native split plan for text layouts.", -1, METHODS, NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__native(void) { return PyModule_Create(&MODULE); }
