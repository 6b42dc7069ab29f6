// SPDX-License-Identifier: GPL-2.0
/*
 * Console detector, streaming core: bytes -> lines -> cleaned text -> reports.
 *
 * Speed: a line costs one memchr for '\n', a few byte compares to strip the
 * timestamp/caller/level prefix, and a 256-entry first-byte table lookup.
 * Only lines whose first byte can start a header (or lines inside a report)
 * go further.  No regex anywhere.
 *
 * Interleaving: with PRINTK_CALLER ids ("[ T123]", "[ C1]", kmsg "caller=")
 * every caller gets its own parsing context; without them, up to two foreign
 * lines inside a stack are tolerated and left out of the report.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "detect-internal.h"
#include "util.h"

#define MAX_LINE	   (64u * 1024) /* longer lines are cut (rest ignored) */
#define MAX_CTX		   16		/* parallel caller contexts */
#define MAX_STACK	   96		/* frames kept per report */
#define MAX_EXCERPT_LINES  160		/* excerpt lines kept per report */
#define MAX_REPORT_LINES   4000		/* a report longer than this is cut */
#define MAX_OOM_LINES	   20000	/* OOM reports carry task tables */
#define MAX_BLOCKED	   4096		/* blocked tasks kept for the summary */
#define BLOCKED_TAB	   (2 * MAX_BLOCKED) /* their hash table (half full at most) */
#define FOREIGN_TOLERANCE  2		/* non-body lines tolerated inside a stack */
#define SYSRQ_RESUME_LINES 2000		/* window for a cut sysrq-w dump to resume */
#define MARK_WINDOW	   4		/* cut-here/separator to header distance */

struct sbuf {
	char *p;
	size_t n, a;
};

static int sbuf_add(struct sbuf *b, const char *s, size_t n)
{
	if (b->n + n + 1 > b->a) {
		size_t na = b->a ? b->a : 256;
		while (na < b->n + n + 1)
			na *= 2;
		char *np = realloc(b->p, na);
		if (!np)
			return -ENOMEM;
		b->p = np;
		b->a = na;
	}
	memcpy(b->p + b->n, s, n);
	b->n += n;
	b->p[b->n] = 0;
	return 0;
}

char *kd_strndup(const char *s, size_t n)
{
	char *r = malloc(n + 1);
	if (!r)
		return NULL;
	memcpy(r, s, n);
	r[n] = 0;
	return r;
}

static void strv_free_(char **l)
{
	if (!l)
		return;
	for (char **p = l; *p; p++)
		free(*p);
	free(l);
}

/* A report being assembled in one context. */
struct rep {
	const struct kd_rule *rule;
	int cls; /* -1: noise / sysrq-w dump (never reported) */
	uint64_t first, last;
	char *header; /* cleaned header text */
	char *what;   /* title stem override */
	char *rip;    /* first kernel RIP/EIP/pc function */
	char *hfunc;  /* function named by the header */
	char **stack;
	size_t nstack;
	char *task;
	char *memcg, *victim, *access;
	struct sbuf excerpt;
	unsigned exlines, nlines, foreign;
	bool in_stack;	      /* saw a frame */
	bool stack_closed;    /* saw </TASK> or similar */
	bool want_backtrace;  /* lockdep: the stack to keep follows "stack backtrace:" */
	bool after_backtrace; /* lockdep: seen it */
	unsigned held_want;   /* lockdep: "N locks held by": N, then the " #i:" lines seen */
	unsigned held_seen;
	bool garbled;
	bool killed; /* oom: saw its last line, "Killed process" or "no killable processes" */
	bool nokill; /* oom: "Out of memory and no killable processes" */
	bool line2_pending;
	bool skip_frame; /* next frame line is "Preemption disabled at:" info */
	bool frozen;	 /* rcu stall: the stalled CPU's stack is done, ignore later stacks */
	bool want_at;	 /* lockdep: the next "at:" lines name the lock site */
	char *atfn;	 /* lockdep: first non-generic function of those "at:" lines */
	/* sysrq-w dump: the task being collected */
	struct kd_blocked *cur;
};

struct ctx {
	uint64_t key; /* caller id hash; 0 = no caller ids */
	bool used;
	uint64_t stamp;
	struct rep *r;
	uint64_t cut_line, sep_line; /* last cut-here / separator line, 0 none */
	struct sbuf cut_msg;	     /* lines after the cut-here mark: the WARN message */
	unsigned cut_msg_lines;
	uint64_t last_end;	     /* line where the last real report ended */
	int last_cls;
	/* an NMI backtrace this caller prints for an RCU stall report open in another
	 * context (the detecting CPU's): its lines go to that report, up to </TASK> */
	uint64_t adopt_key, adopt_first;
};

struct entry { /* an emitted report */
	struct kd_report r;
	uint64_t hash;
};

struct kd_detector {
	kd_report_cb cb;
	void *userdata;
	struct sbuf line;    /* partial line carried between feeds */
	struct sbuf scratch; /* cleaned copy of the current line */
	bool line_cut;
	uint64_t lineno; /* lines completed so far */
	bool kmsg;	 /* saw a /dev/kmsg record header */
	bool ansi;	 /* saw a line starting with an ANSI escape (dmesg --color=always) */
	struct sbuf plain; /* the current line without its ANSI escapes */
	bool banner_seen, reboot_expected, crashed;
	struct ctx ctx[MAX_CTX];
	uint64_t stamp;
	struct entry **reports;
	size_t n_reports, a_reports;
	/* signature hash -> index + 1 into reports (open addressing, power of two,
	 * at most half full): dedup stays O(1) per report however many there are */
	uint32_t *sig_tab;
	size_t sig_cap;
	struct kd_blocked **blocked;
	size_t n_blocked, a_blocked;
	uint16_t *blocked_tab; /* hash(comm, pid) -> index + 1, BLOCKED_TAB slots */
	bool blocked_dirty;
	ssize_t summary_idx;
	/* a sysrq-w dump cut by an interleaved block (the hung-task NMI backtraces of
	 * hung_task_all_cpu_backtrace run on the other CPU): its remaining "task:" entries
	 * resume the dump up to this line */
	uint64_t sysrq_resume_until;
	const struct kd_rule *sysrq_rule;
	int error;	     /* sticky -ENOMEM */
	uint64_t bloom[64];  /* hash of the first 4 bytes of every rule prefix */
	uint32_t *pfx4;	     /* first 4 bytes of each rule prefix */
	uint16_t *plen;	     /* prefix lengths */
	uint16_t *chain;     /* next rule (+1) with the same 4-byte hash, table order */
	uint16_t head[4096]; /* first rule (+1) per 4-byte hash */
};

/* ------------------------------------------------------------------------ */
/* Small string helpers                                                      */

static bool has_prefix(const char *t, size_t n, const char *p)
{
	size_t pl = strlen(p);
	return pl <= n && !memcmp(t, p, pl);
}

/* Short haystacks (console lines): memchr for the first byte + memcmp beats
 * memmem's setup cost. */
static const char *find(const char *t, size_t n, const char *needle)
{
	size_t nl = strlen(needle);
	if (!nl || nl > n)
		return nl ? NULL : t;
	const char *e = t + n - nl + 1;
	for (const char *p = t; p < e;) {
		p = memchr(p, needle[0], (size_t)(e - p));
		if (!p)
			return NULL;
		if (!memcmp(p + 1, needle + 1, nl - 1))
			return p;
		p++;
	}
	return NULL;
}

static bool is_fn_char(char c)
{
	return isalnum((unsigned char)c) || c == '_' || c == '.' || c == '$';
}

/* The length of a function name without its compiler suffix: foo.cold, foo.isra.0,
 * foo.constprop.3, foo.part.1 name foo. */
static size_t fn_base_len(const char *s, size_t n)
{
	static const char *const sfx[] = {".cold", ".isra",	".constprop",
					  ".part", ".lto_priv", ".llvm"};
	for (size_t i = 0; i < n; i++) {
		if (s[i] != '.')
			continue;
		for (size_t k = 0; k < sizeof(sfx) / sizeof(sfx[0]); k++)
			if (has_prefix(s + i, n - i, sfx[k]))
				return i;
	}
	return n;
}

static char *fn_dup(const char *s, size_t n)
{
	return kd_strndup(s, fn_base_len(s, n));
}

/* A symbolized inline frame: "[ws]func path/file.h:123 [inline]" (syzkaller
 * and decode_stacktrace.sh output name the inlined callee on its own line). */
static int parse_inline_frame(const char *t, size_t n, char **fn, bool *unreliable)
{
	static const char tail[] = " [inline]";
	if (n < sizeof(tail) + 4 || memcmp(t + n - (sizeof(tail) - 1), tail, sizeof(tail) - 1))
		return 0;
	const char *e = t + n - (sizeof(tail) - 1), *p = t;
	while (p < e && (*p == ' ' || *p == ':'))
		p++;
	if (p + 1 < e && *p == '?' && p[1] == ' ')
		return 0;
	const char *b = p;
	while (p < e && is_fn_char(*p))
		p++;
	if (p == b || p >= e || *p != ' ' || isdigit((unsigned char)*b))
		return 0;
	const char *loc = p + 1, *colon = memchr(loc, ':', (size_t)(e - loc));
	if (!colon || colon + 1 >= e || !isdigit((unsigned char)colon[1]) || memchr(loc, ' ', (size_t)(colon - loc)))
		return 0;
	if (!(*fn = fn_dup(b, (size_t)(p - b))))
		return -ENOMEM;
	*unreliable = false;
	return 1;
}

/* Parse "func+0x1f/0x2a" (possibly "[<addr>] ", "? ", "] " before it) somewhere
 * in t.  Returns 1 with *fn (malloc'ed) and *unreliable, 0 if not a frame. */
static int parse_frame(const char *t, size_t n, char **fn, bool *unreliable)
{
	const char *plus = find(t, n, "+0x");
	if (!plus)
		return parse_inline_frame(t, n, fn, unreliable);
	const char *e = t + n;
	const char *q = plus + 3;
	while (q < e && isxdigit((unsigned char)*q))
		q++;
	if (q >= e || *q != '/' || q + 2 >= e || q[1] != '0' || q[2] != 'x')
		return 0;
	const char *b = plus;
	while (b > t && is_fn_char(b[-1]))
		b--;
	if (b == plus)
		return 0;
	/* what precedes the name: start, spaces, "? ", "] ", ":" (RIP: 0010:func) */
	bool unrel = false;
	for (const char *p = t; p < b; p++)
		if (*p == '?' && (p + 1 == b || p[1] == ' '))
			unrel = true;
	if (b > t && !(b[-1] == ' ' || b[-1] == ']' || b[-1] == ':' || b[-1] == '\t' ||
		       b[-1] == '<' || b[-1] == '('))
		return 0;
	*fn = fn_dup(b, (size_t)(plus - b));
	if (!*fn)
		return -ENOMEM;
	*unreliable = unrel;
	return 1;
}

/* ------------------------------------------------------------------------ */
/* Line cleaning                                                             */

static bool digit(char c)
{
	return c >= '0' && c <= '9';
}

/* A printk caller id ("T123", "C1") as a context key: its letter in the top byte, its
 * number below, never 0 (the key of "no caller ids").  Two ids never share a key. */
static uint64_t caller_key(char type, const char *digits, const char *end)
{
	uint64_t num = 0;
	for (const char *p = digits; p < end && num < (1ull << 52); p++)
		num = num * 10 + (uint64_t)(*p - '0');
	return (uint64_t)(unsigned char)type << 56 | num;
}

/* Skip one known prefix at t[0..n).  Returns bytes consumed (0 = none); sets
 * *caller when a caller id was seen. */
static size_t skip_prefix(struct kd_detector *d, const char *t, size_t n, uint64_t *caller)
{
	if (!n)
		return 0;
	char c = t[0];
	if (c == '[') {
		size_t i = 1;
		while (i < n && t[i] == ' ')
			i++;
		size_t ds = i;
		while (i < n && digit(t[i]))
			i++;
		if (i > ds && i < n && t[i] == '.') { /* [  123.456789] */
			i++;
			size_t fs = i;
			while (i < n && digit(t[i]))
				i++;
			if (i > fs && i < n && t[i] == ']') {
				i++;
				if (i < n && t[i] == ' ')
					i++;
				return i;
			}
			return 0;
		}
		if (i == ds && i + 1 < n && (t[i] == 'T' || t[i] == 'C') && digit(t[i + 1])) {
			/* [ T123] / [    C1] caller id */
			size_t k = i + 1;
			while (k < n && digit(t[k]))
				k++;
			if (k < n && t[k] == ']') {
				*caller = caller_key(t[i], t + i + 1, t + k);
				k++;
				if (k < n && t[k] == ' ')
					k++;
				return k;
			}
			return 0;
		}
		/* dmesg -T: [Sat Nov 22 03:50:00 2025] */
		if (n > 26 && isupper((unsigned char)t[1]) && t[4] == ' ' && t[8] == ' ' &&
		    t[14] == ':' && t[17] == ':') {
			const char *rb = memchr(t, ']', n < 40 ? n : 40);
			if (rb) {
				size_t k = (size_t)(rb - t) + 1;
				if (k < n && t[k] == ' ')
					k++;
				return k;
			}
		}
		return 0;
	}
	if (c == '<') { /* <4> */
		size_t i = 1;
		while (i < n && i < 5 && digit(t[i]))
			i++;
		if (i > 1 && i < n && t[i] == '>')
			return i + 1;
		return 0;
	}
	if (digit(c)) {
		/* kmsg: "4,123,456,-;text" or "6,339,5140900,-,caller=T1;text" */
		size_t i = 0, commas = 0;
		while (i < n && i < 96 && (digit(t[i]) || t[i] == ','))
			if (t[i++] == ',')
				commas++;
		if (commas >= 3 && i < n && (t[i] == '-' || t[i] == 'c' || t[i] == ';')) {
			const char *semi = memchr(t + i, ';', n - i < 64 ? n - i : 64);
			if (semi) {
				const char *cl = find(t, (size_t)(semi - t), "caller=");
				if (cl && cl + 8 < semi) {
					const char *e = cl + 8;
					while (e < semi && digit(*e))
						e++;
					*caller = caller_key(cl[7], cl + 8, e);
				}
				d->kmsg = true;
				return (size_t)(semi - t) + 1;
			}
		}
		/* ISO time: 2025-11-22T03:50:00,123456+00:00 text */
		if (n > 20 && t[4] == '-' && t[7] == '-' && t[10] == 'T' && t[13] == ':') {
			const char *sp = memchr(t, ' ', n < 48 ? n : 48);
			if (sp)
				return (size_t)(sp - t) + 1;
		}
		return 0;
	}
	if (isupper((unsigned char)c) && n > 16 && t[3] == ' ' && t[6] == ' ' && t[9] == ':' &&
	    t[12] == ':') {
		/* syslog: "Nov 22 03:50:00 host kernel: text" */
		const char *k = find(t, n < 96 ? n : 96, " kernel: ");
		if (k)
			return (size_t)(k - t) + 9;
		return 0;
	}
	if (islower((unsigned char)c) && n > 14) {
		/* dmesg -x: "kern  :warn  : text" */
		size_t i = 0;
		while (i < n && i < 8 && islower((unsigned char)t[i]))
			i++;
		if (i >= 3) {
			size_t k = i;
			while (k < n && t[k] == ' ')
				k++;
			if (k < n && t[k] == ':') {
				k++;
				size_t ls = k;
				while (k < n && islower((unsigned char)t[k]))
					k++;
				if (k > ls) {
					while (k < n && t[k] == ' ')
						k++;
					if (k + 1 < n && t[k] == ':' && t[k + 1] == ' ')
						return k + 2;
				}
			}
		}
	}
	return 0;
}

/* Full cleaning into a fresh buffer: drop ANSI escapes, CR, NUL and other
 * control bytes; replace invalid UTF-8 by '?'.  Returns the number of bytes
 * replaced or dropped (a garbage measure). */
static size_t clean_copy(const char *s, size_t n, struct sbuf *out)
{
	size_t bad = 0;
	out->n = 0;
	if (sbuf_add(out, "", 0) < 0)
		return SIZE_MAX;
	for (size_t i = 0; i < n;) {
		unsigned char c = (unsigned char)s[i];
		if (c == 0x1b) { /* ESC [ ... final byte */
			i++;
			if (i < n && s[i] == '[') {
				i++;
				while (i < n &&
				       ((unsigned char)s[i] < 0x40 || (unsigned char)s[i] > 0x7e))
					i++;
				if (i < n)
					i++;
			}
			continue;
		}
		if (c == '\r') {
			i++;
			continue;
		}
		if (c == '\t') {
			if (sbuf_add(out, " ", 1) < 0)
				return SIZE_MAX;
			i++;
			continue;
		}
		if (c < 0x20 || c == 0x7f) {
			bad++;
			i++;
			continue;
		}
		if (c < 0x80) {
			size_t j = i;
			while (j < n && (unsigned char)s[j] >= 0x20 && (unsigned char)s[j] < 0x7f)
				j++;
			if (sbuf_add(out, s + i, j - i) < 0)
				return SIZE_MAX;
			i = j;
			continue;
		}
		/* UTF-8 sequence? */
		size_t len = c >= 0xf0 && c < 0xf5   ? 4
			     : c >= 0xe0	     ? 3
			     : c >= 0xc2 && c < 0xe0 ? 2
						     : 0;
		bool ok = len && i + len <= n;
		for (size_t k = 1; ok && k < len; k++)
			if (((unsigned char)s[i + k] & 0xc0) != 0x80)
				ok = false;
		if (ok) {
			if (sbuf_add(out, s + i, len) < 0)
				return SIZE_MAX;
			i += len;
		} else {
			if (sbuf_add(out, "?", 1) < 0)
				return SIZE_MAX;
			bad++;
			i++;
		}
	}
	return bad;
}

/* Copy s[0..n) into out without ANSI CSI sequences (ESC [ params final) and
 * other two-byte ESC sequences.  Returns the new length, SIZE_MAX on ENOMEM. */
static size_t strip_ansi(const char *s, size_t n, struct sbuf *out)
{
	out->n = 0;
	if (sbuf_add(out, "", 0) < 0)
		return SIZE_MAX;
	for (size_t i = 0; i < n;) {
		const char *esc = memchr(s + i, 0x1b, n - i);
		size_t run = esc ? (size_t)(esc - s) - i : n - i;
		if (run && sbuf_add(out, s + i, run) < 0)
			return SIZE_MAX;
		i += run;
		if (!esc)
			break;
		i++;
		if (i < n && s[i] == '[') {
			i++;
			while (i < n && ((unsigned char)s[i] < 0x40 || (unsigned char)s[i] > 0x7e))
				i++;
		}
		if (i < n)
			i++; /* the final byte (or the byte after a lone ESC) */
	}
	return out->n;
}

/* ------------------------------------------------------------------------ */
/* Reports                                                                   */

void kd_report_clear(struct kd_report *r)
{
	free(r->title);
	free(r->frame);
	strv_free_(r->stack);
	free(r->task);
	free(r->signature);
	free(r->excerpt);
	free(r->memcg);
	free(r->victim);
	free(r->summary_text);
	for (size_t i = 0; i < r->n_groups; i++) {
		free(r->groups[i].frame);
		free(r->groups[i].via);
		free(r->groups[i].role);
		strv_free_(r->groups[i].tasks);
	}
	free(r->groups);
	free(r->root);
	memset(r, 0, sizeof(*r));
}

static void blocked_free(struct kd_blocked *b)
{
	if (!b)
		return;
	free(b->comm);
	strv_free_(b->stack);
	free(b);
}

static void rep_free(struct rep *r)
{
	if (!r)
		return;
	free(r->header);
	free(r->what);
	free(r->rip);
	free(r->hfunc);
	free(r->atfn);
	for (size_t i = 0; i < r->nstack; i++)
		free(r->stack[i]);
	free(r->stack);
	free(r->task);
	free(r->memcg);
	free(r->victim);
	free(r->access);
	free(r->excerpt.p);
	blocked_free(r->cur);
	free(r);
}

static int nomem(struct kd_detector *d)
{
	d->error = -ENOMEM;
	return -ENOMEM;
}

static int rep_push_frame(struct rep *r, char *fn)
{
	if (r->nstack >= MAX_STACK) {
		free(fn);
		return 0;
	}
	if (!(r->nstack & 15)) {
		char **ns = realloc(r->stack, (r->nstack + 17) * sizeof(char *));
		if (!ns) {
			free(fn);
			return -ENOMEM;
		}
		r->stack = ns;
	}
	r->stack[r->nstack++] = fn;
	return 0;
}

static void rep_reset_stack(struct rep *r)
{
	for (size_t i = 0; i < r->nstack; i++)
		free(r->stack[i]);
	r->nstack = 0;
	r->in_stack = false;
	r->stack_closed = false;
}

static int rep_add_excerpt(struct rep *r, const char *t, size_t n)
{
	if (r->exlines >= MAX_EXCERPT_LINES) {
		if (r->exlines++ == MAX_EXCERPT_LINES)
			return sbuf_add(&r->excerpt, "...\n", 4);
		return 0;
	}
	r->exlines++;
	if (sbuf_add(&r->excerpt, t, n) < 0 || sbuf_add(&r->excerpt, "\n", 1) < 0)
		return -ENOMEM;
	return 0;
}

/* Normalise for the signature: hex/decimal numbers -> N, collapse spaces. */
static char *normalize(const char *s)
{
	size_t n = strlen(s);
	char *o = malloc(n + 1);
	if (!o)
		return NULL;
	size_t k = 0;
	for (size_t i = 0; i < n;) {
		if (s[i] == '0' && i + 1 < n && (s[i + 1] == 'x' || s[i + 1] == 'X')) {
			i += 2;
			while (i < n && isxdigit((unsigned char)s[i]))
				i++;
			o[k++] = 'N';
			continue;
		}
		if (digit(s[i]) &&
		    (i == 0 || !isalpha((unsigned char)s[i - 1]) || s[i - 1] == 'x')) {
			while (i < n && (isxdigit((unsigned char)s[i])))
				i++;
			o[k++] = 'N';
			continue;
		}
		if (s[i] == ' ' && k && o[k - 1] == ' ') {
			i++;
			continue;
		}
		o[k++] = s[i++];
	}
	o[k] = 0;
	return o;
}

static uint64_t fnv(const char *s)
{
	uint64_t h = 1469598103934665603ull;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h;
}

/* Frames that are never worth naming, even when everything else is generic. */
static bool is_plumbing(const char *fn)
{
	static const char *const l[] = {"schedule",
					"__schedule",
					"schedule_",
					"io_schedule",
					"preempt_schedule",
					"bit_wait",
					"__wait_on_bit",
					"out_of_line_wait_on_bit",
					"dump_stack",
					"dump_stack_",
					"panic",
					"__warn",
					"show_stack",
					"0x",
					"rwsem_down_",
					"__mutex_lock",
					"mutex_lock"};
	for (size_t i = 0; i < sizeof(l) / sizeof(l[0]); i++) {
		size_t n = strlen(l[i]);
		if (l[i][n - 1] == '_' || !strcmp(l[i], "0x") ? !strncmp(fn, l[i], n)
							      : !strcmp(fn, l[i]))
			return true;
	}
	return false;
}

/* Frame categories a report kind skips when looking for the guilty frame. */
static unsigned skip_cats(const struct rep *r)
{
	switch (r->rule->kind) {
	case KK_SANITIZER:
	case KK_UBSAN:
		/* the bad access may be inside a lock primitive (a freed lock) */
		return KD_SKIP_ALL & ~KD_SKIP_LOCK;
	case KK_RCU:
	case KK_HARDLOCKUP:
		return KD_SKIP_ALL | KD_SKIP_STALL;
	default:
		return KD_SKIP_ALL;
	}
}

/* The guilty frame: first non-generic frame, preferring `first` (RIP/header);
 * if every frame is generic, the first one that is not scheduler/report plumbing. */
static const char *guilty(struct rep *r, const char *first)
{
	unsigned cats = skip_cats(r);
	if (first && !kd_frame_skip(first, cats))
		return first;
	for (size_t i = 0; i < r->nstack; i++)
		if (!kd_frame_skip(r->stack[i], cats))
			return r->stack[i];
	if (first && !is_plumbing(first))
		return first;
	if (r->rule->cls == KD_CLASS_OOM)
		return NULL;
	for (size_t i = 0; i < r->nstack; i++)
		if (!is_plumbing(r->stack[i]))
			return r->stack[i];
	return NULL;
}

/* "what" from the header text for rules without a fixed stem: the text up to
 * the first ':' / '!' / " - " / digit, e.g. "BUG: Dentry ... still in use" ->
 * "BUG: Dentry". */
static char *what_from_header(const char *h)
{
	size_t n = strlen(h);
	size_t start = has_prefix(h, n, "BUG: ") ? 5 : 0;
	size_t i = start;
	while (i < n && h[i] != ':' && h[i] != '!' && h[i] != '(' && h[i] != '[' && !digit(h[i]) &&
	       !(h[i] == ' ' && i + 2 < n && h[i + 1] == '-' && h[i + 2] == ' ') &&
	       !(h[i] == ' ' && i + 2 < n && h[i + 1] == 'a' && h[i + 2] == 't' &&
		 (i + 3 >= n || h[i + 3] == ' ')))
		i++;
	while (i > start && (h[i - 1] == ' ' || h[i - 1] == ',' || h[i - 1] == '.'))
		i--;
	return kd_strndup(h, i);
}

static int build_title(struct kd_detector *d, struct rep *r, struct kd_report *out)
{
	const char *what = r->what ? r->what : r->rule->what;
	(void)d;
	char *own_what = NULL;
	const char *h = r->header ? r->header : "";
	if (!what && r->rule->kind == KK_PREEMPTIBLE) {
		/* "BUG: using __this_cpu_read() in preemptible [00000000] code: syz/123" */
		const char *in = strstr(h, " in preemptible");
		own_what = strdupf("%.*s in preemptible code", in ? (int)(in - h) : (int)strlen(h), h);
		if (!own_what)
			return -ENOMEM;
		what = own_what;
	} else if (!what && r->rule->kind == KK_SLUB) {
		/* "BUG kmalloc-64 (Not tainted): Poison overwritten" -> "BUG: Poison overwritten" */
		const char *c = strstr(h, "): ");
		own_what = strdupf("BUG: %s", c ? c + 3 : h + 4);
		if (!own_what)
			return -ENOMEM;
		what = own_what;
	}
	if (!what) {
		own_what = what_from_header(r->header ? r->header : "BUG");
		if (!own_what)
			return -ENOMEM;
		what = own_what;
	}
	const char *frame = NULL;
	char *title = NULL;
	bool need_frame = true;
	switch (r->rule->kind) {
	case KK_WARNING:
	case KK_WARNING_OLD:
	case KK_SANITIZER:
		frame = guilty(r, r->hfunc);
		break;
	case KK_UBSAN:
	case KK_REFCOUNT:
	case KK_HUNG:
	case KK_CANT_DIE:
	case KK_LOCKDEP:
		/* the lock site ("... is trying to acquire lock: ... at: f", "takes: ... at: f") */
		frame = r->atfn ? r->atfn : guilty(r, NULL);
		break;
	case KK_LOCKDEP_NOBT:
	case KK_PREEMPTIBLE:
	case KK_SLUB:
		frame = guilty(r, NULL);
		break;
	case KK_FIXED: /* a frame only if the stack has one that is not generic */
		for (size_t i = 0; !frame && i < r->nstack; i++)
			if (!kd_frame_skip(r->stack[i], skip_cats(r)))
				frame = r->stack[i];
		need_frame = false;
		break;
	case KK_RCU_USAGE:
		frame = guilty(r, NULL);
		break;
	case KK_OOM_INVOKED:
	case KK_OOM_CONSTRAINT:
	case KK_OOM_KILLED:
		frame = guilty(r, NULL);
		need_frame = false;
		break;
	case KK_FS_EXT4_ERROR:
		frame = r->hfunc;
		need_frame = false;
		break;
	case KK_PANIC:
		frame = guilty(r, r->rip);
		need_frame = false;
		break;
	case KK_WQ_LOCKUP:
	case KK_FS_LINE:
	case KK_PAGECACHE_INVAL:
	case KK_BANNER:
		frame = NULL;
		need_frame = false;
		break;
	default: /* crash, soft/hard lockup, rcu stall */
		frame = guilty(r, r->rip);
		if (!frame && r->rip)
			frame = r->rip;
		break;
	}
	if (!frame && need_frame && r->rule->kind != KK_RCU_USAGE) {
		/* last resort: innermost reliable frame */
		if (r->rip)
			frame = r->rip;
		else if (r->nstack)
			frame = r->stack[0];
	}
	if (r->rule->kind == KK_PANIC && out->cls == KD_CLASS_WARNING) {
		/* panic_on_warn: the panic is the warning's (its own line was not seen) */
		title = frame ? strdupf("WARNING in %s", frame) : strdup("WARNING");
	} else if (r->rule->kind == KK_FIXED) {
		title = strdup(what);
	} else if (r->rule->kind == KK_PANIC) {
		const char *m = r->header ? strstr(r->header, "not syncing") : NULL;
		m = m ? m + 11 : "";
		while (*m == ':' || *m == ' ')
			m++;
		title = strdupf("kernel panic: %s", *m ? m : "unknown");
	} else if (r->rule->cls == KD_CLASS_OOM) {
		bool memcg = r->memcg && strcmp(r->memcg, "/") != 0 && r->header &&
			     (strstr(r->header, "CONSTRAINT_MEMCG") ||
			      strstr(r->header, "Memory cgroup") || r->rule->kind != KK_OOM_KILLED);
		const char *v = r->victim ? r->victim : "unknown";
		char *vc = kd_strndup(v, strcspn(v, ":"));
		if (!vc)
			goto oom;
		if (r->nokill || r->rule->kind == KK_OOM_NOKILL)
			title = memcg ? strdupf("memory cgroup OOM: no killable processes in %s",
						r->memcg)
				      : strdup("out of memory: no killable processes");
		else if (memcg)
			title = strdupf("memory cgroup OOM: killed %s in %s", vc, r->memcg);
		else
			title = strdupf("out of memory: killed %s", vc);
		free(vc);
	} else if (r->rule->kind == KK_SANITIZER || r->rule->kind == KK_UBSAN) {
		/* "KASAN: use-after-free Read in func" */
		const char *k = strstr(h, what);
		k = k ? k + strlen(what) : h;
		while (*k == ':' || *k == ' ')
			k++;
		const char *in = strstr(k, " in ");
		size_t kl = in ? (size_t)(in - k) : strlen(k);
		if (kl > 60)
			kl = strcspn(k, " ");
		if (frame)
			title = strdupf("%s: %.*s%s%s in %s", what, (int)kl, k,
					r->access ? " " : "", r->access ? r->access : "", frame);
		else
			title = strdupf("%s: %.*s", what, (int)kl, k);
	} else if (r->rule->kind == KK_RCU_USAGE) {
		/* syzkaller style: the file:line of the usage, not the caller */
		title = r->hfunc ? strdupf("%s at %s", what, r->hfunc)
			: frame	 ? strdupf("%s in %s", what, frame)
				 : strdupf("%s", what);
	} else if (!frame && r->rule->kind == KK_BUG_AT && r->header) {
		/* no frame: keep the location, "kernel BUG at fs/jbd2/journal.c:123" */
		size_t hl = strcspn(r->header, "!");
		title = strdupf("kernel BUG at %.*s", (int)(hl > 14 ? hl - 14 : 0), r->header + 14);
	} else if (frame) {
		title = strdupf("%s in %s", what, frame);
	} else {
		title = strdupf("%s", what);
	}
	if (!title) {
	oom:
		free(own_what);
		return -ENOMEM;
	}
	if (strlen(title) > 120)
		title[120] = 0;
	out->title = title;
	if (frame && !(out->frame = strdup(frame)))
		goto oom;
	if (need_frame && !frame)
		out->corrupted = true;
	free(own_what);
	return 0;
}

static int sig_tab_grow(struct kd_detector *d)
{
	size_t cap = d->sig_cap ? d->sig_cap * 2 : 64;
	uint32_t *t = calloc(cap, sizeof(*t));
	if (!t)
		return -ENOMEM;
	for (size_t i = 0; i < d->n_reports; i++) {
		const struct entry *e = d->reports[i];
		if (e->r.cls == KD_CLASS_SUMMARY)
			continue;
		size_t k = (size_t)e->hash & (cap - 1);
		while (t[k])
			k = (k + 1) & (cap - 1);
		t[k] = (uint32_t)(i + 1);
	}
	free(d->sig_tab);
	d->sig_tab = t;
	d->sig_cap = cap;
	return 0;
}

static int emit(struct kd_detector *d, struct kd_report *tmp)
{
	char *norm = normalize(tmp->title);
	if (!norm)
		return -ENOMEM;
	char *sig = strdupf("%s:%s", kd_class_name(tmp->cls), norm);
	free(norm);
	if (!sig)
		return -ENOMEM;
	uint64_t h = fnv(sig);
	if ((d->n_reports + 1) * 2 > d->sig_cap && sig_tab_grow(d) < 0) {
		free(sig);
		return -ENOMEM;
	}
	size_t slot = (size_t)h & (d->sig_cap - 1);
	for (; d->sig_tab[slot]; slot = (slot + 1) & (d->sig_cap - 1)) {
		struct entry *e = d->reports[d->sig_tab[slot] - 1];
		if (e->hash != h || strcmp(e->r.signature, sig))
			continue;
		free(sig);
		e->r.count++;
		/* a complete copy replaces a corrupted first sighting */
		if (e->r.corrupted && !tmp->corrupted) {
			unsigned c = e->r.count;
			char *keep = TAKE_PTR(e->r.signature);
			kd_report_clear(&e->r);
			e->r = *tmp;
			memset(tmp, 0, sizeof(*tmp));
			e->r.count = c;
			e->r.signature = keep;
		}
		kd_report_clear(tmp);
		if (d->cb)
			d->cb(&e->r, false, d->userdata);
		return 0;
	}
	if (d->n_reports == d->a_reports) {
		size_t na = d->a_reports ? d->a_reports * 2 : 16;
		struct entry **nr = realloc(d->reports, na * sizeof(*nr));
		if (!nr) {
			free(sig);
			return -ENOMEM;
		}
		d->reports = nr;
		d->a_reports = na;
	}
	struct entry *e = calloc(1, sizeof(*e));
	if (!e) {
		free(sig);
		return -ENOMEM;
	}
	e->r = *tmp;
	memset(tmp, 0, sizeof(*tmp));
	e->r.signature = sig;
	e->r.count = 1;
	e->hash = h;
	d->sig_tab[slot] = (uint32_t)(d->n_reports + 1);
	d->reports[d->n_reports++] = e;
	if (d->cb)
		d->cb(&e->r, true, d->userdata);
	return 0;
}

/* ------------------------------------------------------------------------ */
/* Blocked tasks (hung-task reports and sysrq-w dumps) for the summary        */

static size_t blocked_slot(const char *comm, size_t comm_n, uint64_t pid)
{
	uint64_t h = 1469598103934665603ull ^ pid;
	for (size_t i = 0; i < comm_n; i++)
		h = (h ^ (unsigned char)comm[i]) * 1099511628211ull;
	return (size_t)(h ^ (h >> 29)) & (BLOCKED_TAB - 1);
}

static int blocked_add(struct kd_detector *d, const char *comm, size_t comm_n, uint64_t pid,
		       char *const *stack, size_t nstack, uint64_t line, bool from_report)
{
	struct kd_blocked *b = NULL;
	if (!d->blocked_tab && !(d->blocked_tab = calloc(BLOCKED_TAB, sizeof(*d->blocked_tab))))
		return -ENOMEM;
	size_t slot = blocked_slot(comm, comm_n, pid);
	for (; d->blocked_tab[slot]; slot = (slot + 1) & (BLOCKED_TAB - 1)) {
		struct kd_blocked *x = d->blocked[d->blocked_tab[slot] - 1];
		if (x->pid == pid && strlen(x->comm) == comm_n && !memcmp(x->comm, comm, comm_n)) {
			b = x;
			break;
		}
	}
	if (!b) {
		if (d->n_blocked >= MAX_BLOCKED)
			return 0;
		if (d->n_blocked == d->a_blocked) {
			size_t na = d->a_blocked ? d->a_blocked * 2 : 16;
			struct kd_blocked **nb = realloc(d->blocked, na * sizeof(*nb));
			if (!nb)
				return -ENOMEM;
			d->blocked = nb;
			d->a_blocked = na;
		}
		b = calloc(1, sizeof(*b));
		if (!b || !(b->comm = kd_strndup(comm, comm_n))) {
			free(b);
			return -ENOMEM;
		}
		b->pid = pid;
		b->line = line;
		d->blocked[d->n_blocked++] = b;
		d->blocked_tab[slot] = (uint16_t)d->n_blocked;
	} else if (!nstack && b->stack && b->stack[0]) {
		return 0; /* keep the stack we have */
	}
	char **st = calloc(nstack + 1, sizeof(char *));
	if (!st)
		return -ENOMEM;
	for (size_t i = 0; i < nstack; i++)
		if (!(st[i] = strdup(stack[i]))) {
			strv_free_(st);
			return -ENOMEM;
		}
	strv_free_(b->stack);
	b->stack = st;
	b->from_report |= from_report;
	d->blocked_dirty = true;
	return 0;
}

/* "comm:pid" -> parts (pid after the last ':') */
static int blocked_add_task(struct kd_detector *d, const char *task, struct rep *r)
{
	const char *c = strrchr(task, ':');
	if (!c)
		return 0;
	uint64_t pid = strtoull(c + 1, NULL, 10);
	return blocked_add(d, task, (size_t)(c - task), pid, r->stack, r->nstack, r->first, true);
}

/* sysrq-w: "task:jbd2/dm-0-8     state:D stack:0     pid:105 ..." or the old
 * "jbd2/md127-8    D ffff9f53ff35bc98     0   587      2 0x00000000" */
static bool parse_task_line(const char *t, size_t n, const char **comm, size_t *cn, uint64_t *pid)
{
	if (has_prefix(t, n, "task:")) {
		const char *s = t + 5;
		const char *st = find(t, n, " state:");
		const char *p = find(t, n, " pid:");
		if (!st || !p)
			return false;
		size_t l = (size_t)(st - s);
		while (l && s[l - 1] == ' ')
			l--;
		*comm = s;
		*cn = l;
		p += 5;
		while (p < t + n && *p == ' ')
			p++;
		*pid = strtoull(p, NULL, 10);
		return true;
	}
	/* old format: comm (<=16 chars) then " D " then 4 numeric tokens */
	const char *dd = find(t, n < 40 ? n : 40, " D ");
	if (!dd || dd == t || t[0] == ' ')
		return false;
	const char *q = dd + 3, *e = t + n;
	uint64_t tok[4];
	int k = 0;
	while (k < 4 && q < e) {
		while (q < e && *q == ' ')
			q++;
		const char *b = q;
		while (q < e && isxdigit((unsigned char)*q))
			q++;
		if (q == b || (q < e && *q != ' '))
			break;
		tok[k] = strtoull(b, NULL, k == 0 ? 16 : 10);
		k++;
	}
	if (k < 4)
		return false;
	size_t l = (size_t)(dd - t);
	while (l && t[l - 1] == ' ')
		l--;
	*comm = t;
	*cn = l;
	*pid = tok[2];
	return true;
}

/* A "task:NAME state:D ..." entry of a cut sysrq-w dump, within the resume window. */
static bool resumes_sysrq(const struct kd_detector *d, const char *t, size_t n)
{
	const char *comm;
	size_t cn;
	uint64_t pid;
	if (!d->sysrq_rule || d->lineno > d->sysrq_resume_until)
		return false;
	while (n && *t == ' ') {
		t++;
		n--;
	}
	return has_prefix(t, n, "task:") && parse_task_line(t, n, &comm, &cn, &pid);
}

/* ------------------------------------------------------------------------ */
/* Line handling                                                             */

static const struct kd_rule rule_reboot = {"Linux version ", NULL,    KD_CLASS_CRASH,
					   KK_BANNER,	     KE_LINE, "unexpected kernel reboot"};

static inline uint32_t load4(const char *t)
{
	uint32_t x;
	memcpy(&x, t, 4);
	return x;
}

static inline uint32_t hash4(const char *t);

static const struct kd_rule *match_rule(struct kd_detector *d, const char *t, size_t n)
{
	if (n < 4)
		return NULL;
	uint32_t x = load4(t);
	for (unsigned i = d->head[hash4(t)]; i; i = d->chain[i - 1]) {
		const struct kd_rule *ru = &kd_rules[i - 1];
		if (d->pfx4[i - 1] != x || d->plen[i - 1] > n ||
		    memcmp(t, ru->prefix, d->plen[i - 1]))
			continue;
		if (ru->contains && !find(t, n, ru->contains))
			continue;
		return ru;
	}
	/* "<comm> invoked oom-killer:" / "<comm>: page allocation failure:" */
	size_t lim = n < 24 ? n : 24;
	for (size_t i = 1; i < lim; i++) {
		if (t[i] != ' ')
			continue;
		for (size_t k = 0; k < kd_n_comm_rules; k++)
			if (has_prefix(t + i + 1, n - i - 1, kd_comm_rules[k].prefix))
				return &kd_comm_rules[k];
	}
	return NULL;
}

static inline uint32_t hash4(const char *t)
{
	uint32_t x;
	memcpy(&x, t, 4);
	return (x * 0x9E3779B1u) >> 20; /* 12 bits */
}

/* Cheap test on the raw text: could this line start a report?  One 4-byte
 * bloom lookup, plus a look at the first word for the comm-prefixed rules. */
static bool maybe_header(const struct kd_detector *d, const char *t, size_t n)
{
	if (n < 4)
		return false;
	uint32_t h = hash4(t);
	if (d->bloom[h >> 6] & (1ull << (h & 63)))
		return true;
	if (t[0] == 0x1b)
		return true; /* ANSI escape before the text */
	/* "<comm> invoked oom-killer:" / "<comm>: page allocation failure:" */
	const char *sp = NULL;
#ifdef __SSE2__
	if (n >= 18) { /* the space is at 1..17: comm <= 15 bytes, maybe a ':' */
		__m128i v = _mm_loadu_si128((const __m128i *)(const void *)(t + 2));
		unsigned m = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8(' ')));
		if (t[1] == ' ')
			sp = t + 1;
		else if (m)
			sp = t + 2 + __builtin_ctz(m);
		else
			return false;
	} else
#endif
	{
		size_t lim = n < 18 ? n : 18, i = 1;
		while (i < lim && t[i] != ' ')
			i++;
		sp = i < lim ? t + i : NULL;
	}
	if (sp && t + n - sp > 8) {
		if (!memcmp(sp + 1, "invoked ", 8))
			return true;
		if (sp[-1] == ':' && !memcmp(sp + 1, "page all", 8))
			return true;
	}
	return false;
}

static void set_task(struct rep *r, const char *comm, size_t cn, const char *pid, size_t pn)
{
	if (r->task || !cn)
		return;
	r->task = pn ? strdupf("%.*s:%.*s", (int)cn, comm, (int)pn, pid) : kd_strndup(comm, cn);
}

static size_t span_digits(const char *p, const char *e)
{
	size_t k = 0;
	while (p + k < e && digit(p[k]))
		k++;
	return k;
}

static bool parse_task_line(const char *t, size_t n, const char **comm, size_t *cn, uint64_t *pid);

/* Pick up the task from well-known body lines. */
static void body_task(struct rep *r, const char *t, size_t n)
{
	const char *e = t + n, *p, *c;
	if (r->task)
		return;
	if (has_prefix(t, n, "task:")) { /* sched_show_task(): "task:comm state:R ... pid:N" */
		const char *comm;
		size_t cn;
		uint64_t pid;
		if (parse_task_line(t, n, &comm, &cn, &pid))
			r->task = strdupf("%.*s:%llu", (int)cn, comm, (unsigned long long)pid);
		return;
	}
	if ((p = find(t, n, " PID: ")) && (c = find(t, n, " Comm: "))) { /* CPU: 0 PID: 1 Comm: x */
		const char *cs = c + 7, *ce = cs;
		while (ce < e && *ce != ' ')
			ce++;
		set_task(r, cs, (size_t)(ce - cs), p + 6, span_digits(p + 6, e));
	} else if (has_prefix(t, n, "Pid: ") && (c = find(t, n, ", comm: "))) {
		const char *cs = c + 8, *ce = cs;
		while (ce < e && *ce != ' ')
			ce++;
		set_task(r, cs, (size_t)(ce - cs), t + 5, span_digits(t + 5, e));
	} else if (has_prefix(t, n, "Process ") && (p = find(t, n, " (pid: "))) {
		set_task(r, t + 8, (size_t)(p - t - 8), p + 7, span_digits(p + 7, e));
	} else if ((p = find(t, n, ", pid: ")) && (c = find(t, n, ", name: "))) {
		set_task(r, c + 8, (size_t)(e - c - 8), p + 7, span_digits(p + 7, e));
	} else if ((p = find(t, n, " by task ")) != NULL) {
		/* "by task kworker/u5:1/5012": the pid follows the last '/' */
		const char *cs = p + 9, *ce = cs;
		while (ce < e && *ce != ' ')
			ce++;
		const char *sl = memrchr(cs, '/', (size_t)(ce - cs));
		if (sl && span_digits(sl + 1, ce) == (size_t)(ce - sl - 1) && ce > sl + 1)
			set_task(r, cs, (size_t)(sl - cs), sl + 1, span_digits(sl + 1, e));
	} else if (has_prefix(t, n, "File: ") && (p = find(t, n, " PID: ")) &&
		   (c = find(t, n, " Comm: "))) {
		set_task(r, c + 7, (size_t)(e - c - 7), p + 6, span_digits(p + 6, e));
	} else if ((p = find(t, n, " is leaving the kernel with locks still held")) != NULL) {
		/* lockdep_sys_exit(): "comm/pid is leaving the kernel ..." */
		const char *sl = memrchr(t, '/', (size_t)(p - t));
		if (sl && sl > t && span_digits(sl + 1, p) == (size_t)(p - sl - 1) && p > sl + 1)
			set_task(r, t, (size_t)(sl - t), sl + 1, (size_t)(p - sl - 1));
	}
}

/* Parse the header of a new report. */
static int header_fields(struct rep *r, const char *t, size_t n)
{
	const char *e = t + n, *p, *q;
	char *fn = NULL;
	bool unrel;
	switch (r->rule->kind) {
	case KK_HUNG:
	case KK_CANT_DIE:
		p = t + strlen(r->rule->prefix); /* "INFO: task ", "kdrill: task " */
		q = find(p, (size_t)(e - p), " blocked");
		if (!q)
			q = find(p, (size_t)(e - p), " can't die");
		if (q && q > p && !(r->task = kd_strndup(p, (size_t)(q - p))))
			return -ENOMEM;
		break;
	case KK_SOFTLOCKUP:
		p = memchr(t, '[', n);
		q = p ? memchr(p, ']', (size_t)(e - p)) : NULL;
		if (p && q && q > p + 1 && !(r->task = kd_strndup(p + 1, (size_t)(q - p - 1))))
			return -ENOMEM;
		break;
	case KK_LOCKDEP_NOBT:
		if ((p = find(t, n, "atomic: ")) !=
		    NULL) { /* scheduling while atomic: comm/pid/0x */
			p += 8;
			q = memchr(p, '/', (size_t)(e - p));
			if (q)
				set_task(r, p, (size_t)(q - p), q + 1, span_digits(q + 1, e));
		}
		break;
	case KK_WARNING:
	case KK_WARNING_OLD:
		if (parse_frame(t, n, &fn, &unrel) > 0)
			r->hfunc = fn;
		if ((p = find(t, n, ", CPU#")) != NULL && (p = memchr(p, ':', (size_t)(e - p))) &&
		    (q = memrchr(p, '/', (size_t)(e - p)))) { /* ", CPU#1: comm/pid" */
			p += p + 1 < e && p[1] == ' ' ? 2 : 1;
			set_task(r, p, (size_t)(q - p), q + 1, span_digits(q + 1, e));
		}
		break;
	case KK_FIXED:
		/* unwinder: "... at ffffc900 in comm:pid has bad value" */
		if ((p = find(t, n, " in ")) != NULL && (q = find(p, (size_t)(e - p), " has ")) != NULL &&
		    !(r->task = kd_strndup(p + 4, (size_t)(q - p - 4))))
			return -ENOMEM;
		break;
	case KK_PREEMPTIBLE:
		if ((p = find(t, n, " code: ")) != NULL && (q = memrchr(p, '/', (size_t)(e - p)))) {
			p += 7;
			set_task(r, p, (size_t)(q - p), q + 1, span_digits(q + 1, e));
		}
		break;
	case KK_SANITIZER:
		if ((p = find(t, n, " in ")) != NULL) {
			struct sbuf b = {0};
			p += 4;
			/* old KASAN: "... in func+0x1/0x2 at addr ffff8800..." */
			if ((q = find(p, (size_t)(e - p), " at addr ")) != NULL)
				e = q;
			while (p < e) { /* "foo+0x1/0x2 / bar+0x3/0x4" -> "foo / bar" */
				q = p;
				while (q < e && *q != ' ')
					q++;
				const char *plus = memchr(p, '+', (size_t)(q - p));
				size_t l = plus ? (size_t)(plus - p) : (size_t)(q - p);
				for (size_t k = 0; k < l; k++) /* module name, file:line, "at addr" */
					if (!is_fn_char(p[k]) && !(l == 1 && p[k] == '/'))
						l = 0;
				if (l && p[l - 1] == '.') /* not a name: "0x1f." */
					l = 0;
				l = fn_base_len(p, l); /* "f.isra.0+0x9e/0xa4" -> "f" */
				if ((l && sbuf_add(&b, p, l) < 0) ||
				    (l && q < e && sbuf_add(&b, " ", 1) < 0)) {
					free(b.p);
					return -ENOMEM;
				}
				p = q < e ? q + 1 : e;
			}
			r->hfunc = b.p;
			if (r->hfunc) {
				size_t l = strlen(r->hfunc);
				while (l && r->hfunc[l - 1] == ' ')
					r->hfunc[--l] = 0;
			}
		}
		break;
	case KK_OOM_CONSTRAINT:
	case KK_OOM_KILLED:
	case KK_OOM_INVOKED:
		break;
	case KK_FS_EXT4_ERROR:
		/* "(device X): func:line: ..." or "(device X) in func:line: ..." */
		if ((p = find(t, n, "): ")) != NULL || (p = find(t, n, ") in ")) != NULL) {
			p += p[1] == ':' ? 3 : 5;
			q = p;
			while (q < e && is_fn_char(*q))
				q++;
			if (q > p && !(r->hfunc = kd_strndup(p, (size_t)(q - p))))
				return -ENOMEM;
		}
		if ((p = find(t, n, ": comm ")) != NULL) {
			p += 7;
			q = memchr(p, ':', (size_t)(e - p));
			if (q && !(r->task = kd_strndup(p, (size_t)(q - p))))
				return -ENOMEM;
		}
		break;
	default:
		break;
	}
	return 0;
}

/* OOM details from any line of an OOM report. */
static int oom_line(struct rep *r, const char *t, size_t n)
{
	const char *e = t + n, *p, *q;
	if ((p = find(t, n, "oom_memcg=")) != NULL) {
		p += 10;
		q = p;
		while (q < e && *q != ',')
			q++;
		free(r->memcg);
		if (!(r->memcg = kd_strndup(p, (size_t)(q - p))))
			return -ENOMEM;
		if (!r->header || !strstr(r->header, "CONSTRAINT_MEMCG")) {
			if (find(t, n, "CONSTRAINT_MEMCG")) {
				free(r->what);
				r->what = strdup("memcg");
				if (!r->what)
					return -ENOMEM;
			}
		}
	} else if (!r->memcg && (p = find(t, n, " killed as a result of limit of ")) != NULL) {
		p += 32; /* 3.10: "Task in /a killed as a result of limit of /b" */
		if (!(r->memcg = kd_strndup(p, (size_t)(e - p))))
			return -ENOMEM;
	} else if (!r->memcg && (p = find(t, n, "Memory cgroup stats for ")) != NULL) {
		p += 24;
		q = e;
		if (q > p && q[-1] == ':')
			q--;
		if (!(r->memcg = kd_strndup(p, (size_t)(q - p))))
			return -ENOMEM;
	}
	if (find(t, n, "Out of memory and no killable processes")) {
		r->nokill = true;
		r->killed = true; /* the report's last line too */
	}
	if ((p = find(t, n, "Killed process ")) != NULL ||
	    (p = find(t, n, "Kill process ")) != NULL) {
		p += p[4] == 'e' ? 15 : 13;
		const char *pid = p;
		size_t pn = span_digits(p, e);
		const char *lp = memchr(p, '(', (size_t)(e - p));
		const char *rp = lp ? memchr(lp, ')', (size_t)(e - lp)) : NULL;
		if (lp && rp) {
			free(r->victim);
			r->victim = strdupf("%.*s:%.*s", (int)(rp - lp - 1), lp + 1, (int)pn, pid);
			if (!r->victim)
				return -ENOMEM;
		}
		r->killed = true;
		if (find(t, n, "Memory cgroup out of memory")) {
			free(r->what);
			if (!(r->what = strdup("memcg")))
				return -ENOMEM;
		}
	}
	return 0;
}

static void cut_msg_reset(struct ctx *c)
{
	c->cut_msg.n = 0;
	c->cut_msg_lines = 0;
}

static struct rep *rep_new(struct kd_detector *d, struct ctx *c, const struct kd_rule *ru,
			   const char *t, size_t n)
{
	struct rep *r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	r->rule = ru;
	r->cls = ru->cls;
	r->first = r->last = d->lineno;
	if (!(r->header = kd_strndup(t, n))) {
		free(r);
		return NULL;
	}
	r->want_backtrace = ru->kind == KK_LOCKDEP || ru->kind == KK_RCU_USAGE || ru->kind == KK_SLUB;
	if (c->cut_line && d->lineno - c->cut_line <= MARK_WINDOW && ru->cls >= 0) {
		r->first = c->cut_line;
		/* the WARN message ("list_del corruption, ... LIST_POISON1") leads the excerpt */
		for (size_t i = 0; i < c->cut_msg.n;) {
			const char *l = c->cut_msg.p + i, *nl = memchr(l, '\n', c->cut_msg.n - i);
			size_t ln = nl ? (size_t)(nl - l) : c->cut_msg.n - i;
			if (rep_add_excerpt(r, l, ln) < 0) {
				rep_free(r);
				return NULL;
			}
			i += ln + 1;
		}
	} else if (c->sep_line && d->lineno - c->sep_line <= MARK_WINDOW && ru->cls >= 0)
		r->first = c->sep_line;
	c->cut_line = c->sep_line = 0;
	cut_msg_reset(c);
	return r;
}

static int finish_report(struct kd_detector *d, struct ctx *c, bool cut);

static int dump_task_done(struct kd_detector *d, struct rep *r)
{
	if (!r->cur)
		return 0;
	int e = blocked_add(d, r->cur->comm, strlen(r->cur->comm), r->cur->pid, r->stack, r->nstack,
			    r->cur->line, false);
	blocked_free(r->cur);
	r->cur = NULL;
	rep_reset_stack(r);
	return e;
}

static int finish_report(struct kd_detector *d, struct ctx *c, bool cut)
{
	struct rep *r = c->r;
	int e = 0;
	if (!r)
		return 0;
	c->r = NULL;
	if (r->rule->kind == KK_SYSRQ_W) {
		e = dump_task_done(d, r);
		rep_free(r);
		return e;
	}
	if (r->cls < 0) {
		rep_free(r);
		return 0;
	}
	struct kd_report out = {0};
	out.cls = (enum kd_class)r->cls;
	if (r->rule->kind == KK_PANIC && r->header && strstr(r->header, "panic_on_warn set"))
		out.cls = KD_CLASS_WARNING;
	out.first_line = r->first;
	out.last_line = r->last;
	if (r->rule->kind == KK_OOM_INVOKED || r->rule->kind == KK_OOM_CONSTRAINT)
		out.corrupted = !r->killed;
	else if (r->rule->end == KE_STACK)
		out.corrupted = cut && !r->in_stack && r->rule->kind != KK_PANIC;
	else if (r->rule->end == KE_SEPARATOR)
		out.corrupted = cut;
	if (r->garbled)
		out.corrupted = true;
	if ((e = build_title(d, r, &out)) < 0)
		goto fail;
	if (r->rule->kind == KK_PANIC && !r->nstack && cut)
		out.corrupted = true;
	out.stack = calloc(r->nstack + 1, sizeof(char *));
	if (!out.stack)
		goto nomem;
	for (size_t i = 0; i < r->nstack; i++)
		out.stack[i] = TAKE_PTR(r->stack[i]);
	r->nstack = 0;
	out.task = TAKE_PTR(r->task);
	out.memcg = TAKE_PTR(r->memcg);
	out.victim = TAKE_PTR(r->victim);
	out.excerpt = r->excerpt.p ? TAKE_PTR(r->excerpt.p) : strdup("");
	if (!out.excerpt)
		goto nomem;
	if ((r->rule->kind == KK_HUNG) && out.task) {
		char **mine = r->stack; /* borrow out.stack for blocked_add */
		size_t ns = 0;
		while (out.stack[ns])
			ns++;
		r->stack = out.stack;
		r->nstack = ns;
		e = blocked_add_task(d, out.task, r);
		r->stack = mine;
		r->nstack = 0;
		if (e < 0)
			goto fail;
	}
	c->last_end = r->last;
	c->last_cls = r->cls;
	if (out.cls == KD_CLASS_CRASH)
		d->crashed = true;
	e = emit(d, &out);
	if (e < 0)
		goto fail;
	rep_free(r);
	return 0;
nomem:
	e = -ENOMEM;
fail:
	kd_report_clear(&out);
	rep_free(r);
	return nomem(d);
}

/* Is `ru` a continuation of the report `r` rather than a new one? */
static bool absorbs(const struct rep *r, const struct kd_rule *ru)
{
	int rc = r->cls;
	enum kd_kind k = r->rule->kind;
	if (k == KK_SYSRQ_W)
		return false;
	if (ru->kind == KK_NOISE_LINE)
		return true;
	if (ru->kind == KK_PANIC)
		return rc >= 0 && rc != KD_CLASS_OOM && rc != KD_CLASS_FSERROR;
	if (ru->kind == KK_NOISE && rc == KD_CLASS_HANG && (k == KK_RCU || k == KK_HARDLOCKUP))
		return true;
	if (r->rule->end == KE_OOM && (ru->kind == KK_OOM_CONSTRAINT || ru->kind == KK_OOM_KILLED ||
				       ru->kind == KK_OOM_NOKILL))
		return true;
	if (r->in_stack)
		return false;
	if (ru == r->rule && r->nlines == 0 && ru->end != KE_LINE)
		return true; /* symbolized reports repeat the header: "in inline_fn file.h:N [inline]", "in fn+off" */
	if (rc == KD_CLASS_CRASH &&
	    (ru->kind == KK_OOPS || ru->kind == KK_TRAP || ru->kind == KK_GPF ||
	     ru->kind == KK_PF || ru->kind == KK_PF_NULL))
		return true;
	if (k == KK_REFCOUNT && ru->kind == KK_WARNING)
		return true;
	if (k == KK_GPF && ru->kind == KK_SANITIZER)
		return false;
	return false;
}

/* A line inside an active report. Returns 1 if the report ended on it (line consumed),
 * 2 if the report ended before it (line must be re-processed as idle), 0 to continue. */
static int report_line(struct kd_detector *d, struct ctx *c, const char *t, size_t n,
		       const struct kd_rule *ru)
{
	struct rep *r = c->r;
	const char *s = t;
	size_t sn = n;
	while (sn && *s == ' ') {
		s++;
		sn--;
	}
	int e;

	if (ru && ru->kind == KK_SEPARATOR && r->rule->end == KE_SEPARATOR) {
		r->last = d->lineno;
		if (rep_add_excerpt(r, t, n) < 0)
			return nomem(d);
		return finish_report(d, c, false) < 0 ? d->error : 1;
	}
	if (ru && !absorbs(r, ru)) {
		if (r->rule->kind == KK_SYSRQ_W) {
			d->sysrq_rule = r->rule;
			d->sysrq_resume_until = d->lineno + SYSRQ_RESUME_LINES;
		}
		if (finish_report(d, c, false) < 0)
			return d->error;
		return 2;
	}
	/* the interleaved block is over and the cut dump goes on */
	if (r->cls < 0 && r->rule->kind != KK_SYSRQ_W && resumes_sysrq(d, t, n)) {
		if (finish_report(d, c, false) < 0)
			return d->error;
		return 2;
	}
	if (r->rule->end == KE_LINE2) {
		r->last = d->lineno;
		body_task(r, t, n);
		if (rep_add_excerpt(r, t, n) < 0)
			return nomem(d);
		return finish_report(d, c, false) < 0 ? d->error : 1;
	}

	char *fn = NULL;
	bool unrel = false;
	int fr = parse_frame(s, sn, &fn, &unrel);
	if (fr < 0)
		return nomem(d);
	bool attach = true, ended = false;
	bool riplike = has_prefix(s, sn, "RIP: ") || has_prefix(s, sn, "RIP  [") ||
		       has_prefix(s, sn, "EIP: ") || has_prefix(s, sn, "EIP  [") ||
		       has_prefix(s, sn, "EIP is at ") || has_prefix(s, sn, "pc : ") ||
		       has_prefix(s, sn, "IP: ") || has_prefix(s, sn, "NIP ") ||
		       has_prefix(s, sn, "PC is at ") || has_prefix(s, sn, "epc : ") ||
		       has_prefix(s, sn, "Krnl PSW : ");
	if (fr == 0 && riplike) { /* symbolized "RIP: 0010:func include/x.h:12 [inline]" */
		const char *cs = memchr(s, ':', sn);
		const char *c2 = cs ? memchr(cs + 1, ':', sn - (size_t)(cs + 1 - s)) : NULL;
		if (c2 && parse_inline_frame(c2 + 1, sn - (size_t)(c2 + 1 - s), &fn, &unrel) < 0)
			return nomem(d);
		fr = fn ? 1 : 0;
	}
	if (fr > 0 && !unrel && sn > 13 && !memcmp(s + sn - 13, " (unreliable)", 13))
		unrel = true; /* powerpc: the first frame comes from the stack pointer */
	if (fr > 0 && r->rule->kind == KK_SLUB && has_prefix(s, sn, "INFO: ")) {
		free(fn); /* "INFO: Allocated in f+0x1/0x2 age=..": tracking, not the stack */
		fn = NULL;
		fr = 0;
	}
	if (r->rule->kind == KK_LOCKDEP) {
		/* lockdep names the lock site on "at:" lines after "is trying to acquire
		 * lock:", "takes:" or "lock(s) held by": take the first non-lock function */
		const char *at;
		if (find(s, sn, "is trying to acquire lock:") ||
		    (sn >= 6 && !memcmp(s + sn - 6, "takes:", 6)) || find(s, sn, " held by "))
			r->want_at = !r->atfn && !r->after_backtrace;
		else if (r->want_at && (at = find(s, sn, "at: ")) != NULL) {
			char *afn = NULL;
			bool au;
			const char *a = at + 4;
			size_t an = sn - (size_t)(a - s);
			int ar = parse_frame(a, an, &afn, &au);
			if (ar < 0) {
				free(fn);
				return nomem(d);
			}
			if (ar == 0) { /* "at: func" with no offset */
				size_t k = 0;
				while (k < an && is_fn_char(a[k]))
					k++;
				if (k && !(afn = fn_dup(a, k))) {
					free(fn);
					return nomem(d);
				}
			}
			if (afn && !kd_frame_skip(afn, KD_SKIP_ALL)) {
				r->atfn = afn;
				r->want_at = false;
			} else {
				free(afn);
			}
		} else if (r->want_at) {
			r->want_at = false;
		}
	}
	bool body = fr > 0 || (ru != NULL) || kd_line_is_body(s, sn);

	if (r->rule->kind == KK_SYSRQ_W) {
		const char *comm;
		size_t cn;
		uint64_t pid;
		if (parse_task_line(s, sn, &comm, &cn, &pid)) {
			if (dump_task_done(d, r) < 0)
				return d->error;
			if (!(r->cur = calloc(1, sizeof(*r->cur))) ||
			    !(r->cur->comm = kd_strndup(comm, cn)))
				return nomem(d);
			r->cur->pid = pid;
			r->cur->line = d->lineno;
			body = true;
		} else if (fr > 0 && !riplike && !unrel && r->cur) {
			if (rep_push_frame(r, TAKE_PTR(fn)) < 0)
				return nomem(d);
		} else if (has_prefix(s, sn, "task ") || has_prefix(s, sn, "Sched Debug")) {
			body = has_prefix(s, sn, "task ");
		}
		free(fn);
		if (!body) {
			if (++r->foreign > FOREIGN_TOLERANCE || c->key)
				return finish_report(d, c, false) < 0 ? d->error : 2;
			return 0;
		}
		r->foreign = 0;
		r->last = d->lineno;
		return 0;
	}

	if (r->rule->cls == KD_CLASS_OOM || r->rule->end == KE_OOM) {
		if (oom_line(r, t, n) < 0) {
			free(fn);
			return nomem(d);
		}
	}
	body_task(r, s, sn);
	if (r->rule->kind == KK_SANITIZER && !r->access &&
	    (has_prefix(s, sn, "Read of size") || has_prefix(s, sn, "Write of size"))) {
		if (!(r->access = strdup(s[0] == 'R' ? "Read" : "Write")))
			return nomem(d);
	}
	if (r->rule->kind == KK_RCU_USAGE && !r->hfunc && !r->in_stack) {
		/* "include/linux/rcupdate.h:301 Illegal context switch ..." */
		const char *sp = memchr(s, ' ', sn);
		const char *col = sp ? memchr(s, ':', (size_t)(sp - s)) : NULL;
		if (col && col > s + 2 && col[-2] == '.' && digit(col[1]) &&
		    !(r->hfunc = kd_strndup(s, (size_t)(sp - s)))) {
			free(fn);
			return nomem(d);
		}
	}
	if (r->rule->end == KE_HELD_LOCKS) {
		/* "1 lock held by insmod/154:" then " #0: ... at: f+0x12/0x14": the last
		 * held lock ends a report that prints no stack (lockdep_sys_exit) */
		size_t k = span_digits(s, s + sn);
		if (k && !r->held_want &&
		    (find(s, sn, " lock held by ") || find(s, sn, " locks held by ")))
			r->held_want = (unsigned)strtoul(s, NULL, 10);
		else if (r->held_want && sn > 2 && s[0] == '#' && digit(s[1]) &&
			 ++r->held_seen >= r->held_want) {
			r->last = d->lineno;
			free(fn);
			if (rep_add_excerpt(r, t, n) < 0)
				return nomem(d);
			return finish_report(d, c, false) < 0 ? d->error : 1;
		}
	}
	bool skip = r->skip_frame;
	r->skip_frame = has_prefix(s, sn, "Preemption disabled at") ||
			has_prefix(s, sn, "Preemption disabled at:");
	if (has_prefix(s, sn, "stack backtrace:") ||
	    (r->rule->kind == KK_SLUB && !r->after_backtrace && has_prefix(s, sn, "Call Trace"))) {
		rep_reset_stack(r);
		r->after_backtrace = true;
	}

	if (r->rule->kind == KK_RCU) {
		/* The stalled CPU's backtrace is what matters.  A self-detected stall
		 * prints the detecting interrupt first (<IRQ> dump_stack ... timer
		 * interrupt </IRQ>), then the interrupted code: drop the interrupt part
		 * unless the interrupted RIP was already shown.  The grace-period
		 * kthread's own stack (starvation report) and later dumps are not it. */
		if (!r->rip && !r->frozen &&
		    (has_prefix(s, sn, "</IRQ>") || has_prefix(s, sn, "<EOI>") ||
		     has_prefix(s, sn, "</NMI>")))
			rep_reset_stack(r);
		else if (find(s, sn, " kthread starved for ") || find(s, sn, "kthread stack dump") ||
			 find(s, sn, "Stack dump where RCU GP kthread"))
			r->frozen = r->rip || r->nstack;
		if (r->frozen && fr > 0) {
			free(fn);
			fn = NULL;
			fr = 0;
		}
	}
	if (fr > 0) {
		if (riplike) {
			if (!r->rip && !(r->want_backtrace && !r->after_backtrace))
				r->rip = TAKE_PTR(fn);
		} else if ((r->want_backtrace && !r->after_backtrace) || skip) {
			/* lockdep dependency chains, "Preemption disabled at:": not the stack */
		} else if (r->stack_closed && r->rule->end != KE_STACK) {
			/* KASAN "Allocated by"/"Freed by" and OOM: first stack only */
		} else {
			r->in_stack = true;
			r->foreign = 0;
			if (!unrel && rep_push_frame(r, TAKE_PTR(fn)) < 0)
				return nomem(d);
		}
		free(fn);
	} else if (has_prefix(s, sn, "</TASK>") || has_prefix(s, sn, "</IRQ>")) {
		if (s[2] == 'T') {
			r->stack_closed = true;
			if (r->cls == KD_CLASS_HANG && r->rule->kind != KK_RCU &&
			    r->rule->kind != KK_HARDLOCKUP)
				ended = true;
		}
	} else if (r->rule->end == KE_SEPARATOR || r->rule->end == KE_OOM) {
		if (r->in_stack && !body)
			r->stack_closed = true;
		if (r->rule->end == KE_OOM && r->killed)
			ended = true;
	} else if (!body) {
		/* KE_STACK: free text is fine before the stack, not after it */
		/* lockdep-style reports carry long free-text explanations before
		 * their stack; crash/warning/hang headers are followed by body lines */
		enum kd_kind k = r->rule->kind;
		unsigned prestack = k == KK_LOCKDEP || k == KK_LOCKDEP_NOBT || k == KK_RCU_USAGE ||
					    k == KK_SLUB || k == KK_FIXED || k == KK_PREEMPTIBLE
					? 400
					: 16;
		if (r->in_stack || r->foreign >= prestack) {
			if (c->key || ++r->foreign > FOREIGN_TOLERANCE ||
			    (r->in_stack && r->stack_closed))
				return finish_report(d, c, false) < 0 ? d->error : 2;
			attach = false;
		} else {
			r->foreign++;
			attach = prestack > 16; /* keep lockdep explanations */
		}
	} else {
		if (!r->in_stack)
			r->foreign = 0;
	}
	if (r->rule->end == KE_LINE)
		ended = true;
	if (attach) {
		r->last = d->lineno;
		if (r->in_stack && fr > 0)
			r->foreign = 0;
		if (rep_add_excerpt(r, t, n) < 0)
			return nomem(d);
	}
	if (++r->nlines > (r->rule->end == KE_OOM ? MAX_OOM_LINES : MAX_REPORT_LINES))
		ended = true;
	if (ended) {
		e = finish_report(d, c, false);
		return e < 0 ? e : 1;
	}
	return 0;
}

static struct ctx *get_ctx(struct kd_detector *d, uint64_t key)
{
	struct ctx *lru = NULL;
	d->stamp++;
	for (size_t i = 0; i < MAX_CTX; i++) {
		struct ctx *c = &d->ctx[i];
		if (c->used && c->key == key) {
			c->stamp = d->stamp;
			return c;
		}
		if (!c->used) {
			if (!lru || lru->used)
				lru = c;
		} else if (!lru || (lru->used && c->stamp < lru->stamp)) {
			lru = c;
		}
	}
	if (lru->used && lru->r)
		(void)finish_report(d, lru, false);
	struct sbuf msg = lru->cut_msg; /* the buffer is reused */
	memset(lru, 0, sizeof(*lru));
	lru->cut_msg = msg;
	lru->cut_msg.n = 0;
	lru->used = true;
	lru->key = key;
	lru->stamp = d->stamp;
	return lru;
}

/* With caller ids, an RCU stall's report is opened by the detecting CPU ([C1]) while
 * the stalled CPU prints its own stack ([C0], "NMI backtrace for cpu 0", from
 * rcu_dump_cpu_stacks()).  Without caller ids both land in one context and the
 * stack joins the report; with them, the stack's lines are sent to the report that
 * waits for one: an RCU stall with no RIP and no frame yet.  The adoption ends at
 * the backtrace's </TASK>, at a report header of the caller's own, or when that
 * report is gone. */
static struct ctx *adopter(struct kd_detector *d, struct ctx *c, const char *s, size_t n)
{
	if (c->adopt_key) {
		for (size_t i = 0; i < MAX_CTX; i++) {
			struct ctx *a = &d->ctx[i];
			if (a != c && a->used && a->key == c->adopt_key && a->r &&
			    a->r->first == c->adopt_first && !a->r->frozen)
				return a;
		}
		c->adopt_key = 0;
		return NULL;
	}
	if (c->r || !has_prefix(s, n, "NMI backtrace for cpu"))
		return NULL;
	for (size_t i = 0; i < MAX_CTX; i++) {
		struct ctx *a = &d->ctx[i];
		if (a != c && a->used && a->r && a->r->rule->kind == KK_RCU && !a->r->rip &&
		    !a->r->nstack && !a->r->frozen) {
			c->adopt_key = a->key;
			c->adopt_first = a->r->first;
			return a;
		}
	}
	return NULL;
}

static int handle_line(struct kd_detector *d, struct ctx *c, const char *t, size_t n, size_t bad);

static int adopted_line(struct kd_detector *d, struct ctx *c, struct ctx *a, const char *s,
			size_t n)
{
	struct sbuf *cl = &d->scratch;
	size_t bad = clean_copy(s, n, cl);
	if (bad == SIZE_MAX)
		return nomem(d);
	const struct kd_rule *ru = match_rule(d, cl->p, cl->n);
	if (ru && ru->cls >= 0) {
		/* a report of this caller's own: the backtrace is over */
		c->adopt_key = 0;
		return handle_line(d, c, cl->p, cl->n, bad);
	}
	if (has_prefix(cl->p, cl->n, "</TASK>"))
		c->adopt_key = 0;
	return handle_line(d, a, cl->p, cl->n, bad);
}

/* The slow path: a cleaned line that may matter. */
static int handle_line(struct kd_detector *d, struct ctx *c, const char *t, size_t n, size_t bad)
{
	const struct kd_rule *ru = match_rule(d, t, n);
	int e;
	if (c->r) {
		e = report_line(d, c, t, n, ru);
		if (e < 0)
			return e;
		if (e != 2)
			return 0;
	}
	if (!ru && resumes_sysrq(d, t, n)) {
		c->r = rep_new(d, c, d->sysrq_rule, t, n);
		if (!c->r)
			return nomem(d);
		return report_line(d, c, t, n, NULL) < 0 ? d->error : 0;
	}
	if (!ru) {
		/* between the cut-here mark and the header: the WARN message */
		if (c->cut_line && !c->r && c->cut_msg_lines < MARK_WINDOW) {
			if (sbuf_add(&c->cut_msg, t, n) < 0 || sbuf_add(&c->cut_msg, "\n", 1) < 0)
				return nomem(d);
			c->cut_msg_lines++;
		}
		return 0;
	}
	switch (ru->kind) {
	case KK_CUT_HERE:
		c->cut_line = d->lineno;
		cut_msg_reset(c);
		return 0;
	case KK_SEPARATOR:
		c->sep_line = d->lineno;
		return 0;
	case KK_NOISE_LINE:
		return 0;
	case KK_REBOOT:
		d->reboot_expected = true;
		return 0;
	case KK_BANNER:
		if (d->banner_seen && !d->reboot_expected && !d->crashed) {
			c->r = rep_new(d, c, &rule_reboot, t, n);
			if (!c->r)
				return nomem(d);
			if (rep_add_excerpt(c->r, t, n) < 0)
				return nomem(d);
			e = finish_report(d, c, false);
			if (e < 0)
				return e;
		}
		d->banner_seen = true;
		d->reboot_expected = d->crashed = false;
		return 0;
	case KK_PANIC:
		/* "Kernel panic - not syncing: Fatal exception" right after a report
		 * is its consequence, not a new bug */
		if (c->last_end && d->lineno - c->last_end <= 80 && c->last_cls >= 0 &&
		    c->last_cls != KD_CLASS_OOM && c->last_cls != KD_CLASS_FSERROR) {
			static const struct kd_rule tail = {"", NULL, -1, KK_NOISE, KE_STACK, NULL};
			c->r = rep_new(d, c, &tail, t, n);
			return c->r ? 0 : nomem(d);
		}
		d->reboot_expected = true;
		break;
	default:
		break;
	}
	c->r = rep_new(d, c, ru, t, n);
	if (!c->r)
		return nomem(d);
	if (bad > 8)
		c->r->garbled = true;
	if (header_fields(c->r, t, n) < 0)
		return nomem(d);
	if (ru->cls == KD_CLASS_OOM && oom_line(c->r, t, n) < 0)
		return nomem(d);
	if (c->r->cls >= 0 && rep_add_excerpt(c->r, t, n) < 0)
		return nomem(d);
	if (ru->end == KE_LINE)
		return finish_report(d, c, false);
	return 0;
}

static int process_line(struct kd_detector *d, const char *s, size_t n)
{
	d->lineno++;
	while (n && (s[n - 1] == '\r' || s[n - 1] == 0))
		n--;
	/* leading garbage: NULs, stray control bytes, high bytes */
	while (n && ((unsigned char)s[0] < 0x20 || (unsigned char)s[0] >= 0x80) && s[0] != '\t' &&
	       s[0] != 0x1b) {
		s++;
		n--;
	}
	/* dmesg --color=always colours the timestamp, the subsystem prefix and the
	 * text separately: drop the escapes before the prefix parse.  Only input that
	 * has shown a line starting with ESC pays for the extra scan. */
	if (n && (s[0] == 0x1b || d->ansi) && memchr(s, 0x1b, n)) {
		d->ansi = true;
		if ((n = strip_ansi(s, n, &d->plain)) == SIZE_MAX)
			return nomem(d);
		s = d->plain.p;
		while (n && ((unsigned char)s[0] < 0x20 || (unsigned char)s[0] >= 0x80) &&
		       s[0] != '\t') {
			s++;
			n--;
		}
	}
	if (d->kmsg && n > 1 && s[0] == ' ') {
		/* /dev/kmsg dictionary continuation: " SUBSYSTEM=pci" */
		size_t i = 1;
		while (i < n && (isupper((unsigned char)s[i]) || s[i] == '_'))
			i++;
		if (i > 1 && i < n && s[i] == '=')
			return 0;
	}
	uint64_t caller = 0;
	/* the common case first: "[%5lu.%06lu] " */
	if (n > 15 && s[0] == '[' && s[6] == '.' && s[13] == ']' && s[14] == ' ' && digit(s[5]) &&
	    digit(s[12]) && s[15] != '[') {
		s += 15;
		n -= 15;
		goto stripped;
	}
	for (int k = 0; k < 4; k++) {
		size_t off = skip_prefix(d, s, n, &caller);
		if (!off)
			break;
		s += off;
		n -= off;
	}
stripped:;
	struct ctx *c;
	if (!caller) {
		c = &d->ctx[0];
		if (!c->r && !c->cut_line && !c->sep_line &&
		    (!maybe_header(d, s, n) || (s[0] != 0x1b && !match_rule(d, s, n))) &&
		    !resumes_sysrq(d, s, n))
			return 0;
		if (!c->used) {
			c->used = true;
			c->key = 0;
		}
	} else {
		c = get_ctx(d, caller);
		struct ctx *a = adopter(d, c, s, n);
		if (a)
			return adopted_line(d, c, a, s, n);
		if (!c->r && !c->cut_line && !c->sep_line &&
		    (!maybe_header(d, s, n) || (s[0] != 0x1b && !match_rule(d, s, n))) &&
		    !resumes_sysrq(d, s, n))
			return 0;
	}
	struct sbuf *cl = &d->scratch;
	size_t bad = clean_copy(s, n, cl);
	if (bad == SIZE_MAX)
		return nomem(d);
	/* cut-here window: the lines between the marker and the header (the WARN
	 * message) lead the report's excerpt; the window closes after MARK_WINDOW lines */
	if (c->cut_line && d->lineno - c->cut_line > MARK_WINDOW) {
		c->cut_line = 0;
		cut_msg_reset(c);
	}
	if (c->sep_line && d->lineno - c->sep_line > MARK_WINDOW)
		c->sep_line = 0;
	return handle_line(d, c, cl->p, cl->n, bad);
}

/* ------------------------------------------------------------------------ */
/* Public API                                                                */

int kd_detector_new(struct kd_detector **ret, kd_report_cb cb, void *userdata)
{
	struct kd_detector *d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->cb = cb;
	d->userdata = userdata;
	d->summary_idx = -1;
	d->pfx4 = calloc(kd_n_rules, sizeof(*d->pfx4));
	d->plen = calloc(kd_n_rules, sizeof(*d->plen));
	d->chain = calloc(kd_n_rules, sizeof(*d->chain));
	if (!d->pfx4 || !d->plen || !d->chain) {
		kd_detector_free(d);
		return -ENOMEM;
	}
	for (size_t i = 0; i < kd_n_rules; i++) {
		/* every prefix is >= 4 bytes: rules with shorter ones could never match */
		const char *p = kd_rules[i].prefix;
		size_t l = strlen(p);
		if (l < 4)
			continue;
		d->pfx4[i] = load4(p);
		d->plen[i] = (uint16_t)l;
		uint32_t h = hash4(p);
		d->bloom[h >> 6] |= 1ull << (h & 63);
		/* append to the hash chain, keeping table order */
		uint16_t *link = &d->head[h];
		while (*link)
			link = &d->chain[*link - 1];
		*link = (uint16_t)(i + 1);
	}
	*ret = d;
	return 0;
}

void kd_detector_free(struct kd_detector *d)
{
	if (!d)
		return;
	for (size_t i = 0; i < MAX_CTX; i++) {
		rep_free(d->ctx[i].r);
		free(d->ctx[i].cut_msg.p);
	}
	for (size_t i = 0; i < d->n_reports; i++) {
		kd_report_clear(&d->reports[i]->r);
		free(d->reports[i]);
	}
	free(d->reports);
	free(d->sig_tab);
	for (size_t i = 0; i < d->n_blocked; i++)
		blocked_free(d->blocked[i]);
	free(d->blocked);
	free(d->blocked_tab);
	free(d->line.p);
	free(d->scratch.p);
	free(d->plain.p);
	free(d->pfx4);
	free(d->plen);
	free(d->chain);
	free(d);
}

int kd_detector_feed(struct kd_detector *d, const void *buf, size_t len)
{
	const char *p = buf, *e = p + len;
	if (d->error)
		return d->error;
	while (p < e) {
		const char *nl = memchr(p, '\n', (size_t)(e - p));
		if (!nl) {
			size_t take = (size_t)(e - p);
			if (d->line.n + take > MAX_LINE) {
				take = d->line.n < MAX_LINE ? MAX_LINE - d->line.n : 0;
				d->line_cut = true;
			}
			if (take && sbuf_add(&d->line, p, take) < 0)
				return nomem(d);
			break;
		}
		int r;
		size_t ln = (size_t)(nl - p);
		if (d->line.n || d->line_cut) {
			size_t take = ln;
			if (d->line.n + take > MAX_LINE)
				take = d->line.n < MAX_LINE ? MAX_LINE - d->line.n : 0;
			if (take && sbuf_add(&d->line, p, take) < 0)
				return nomem(d);
			r = process_line(d, d->line.p ? d->line.p : "", d->line.n);
			d->line.n = 0;
			d->line_cut = false;
		} else {
			r = process_line(d, p, ln > MAX_LINE ? MAX_LINE : ln);
		}
		if (r < 0)
			return r;
		p = nl + 1;
	}
	return d->error;
}

static int update_summary(struct kd_detector *d)
{
	if (!d->blocked_dirty)
		return 0;
	bool dump = false;
	for (size_t i = 0; i < d->n_blocked; i++)
		if (!d->blocked[i]->from_report)
			dump = true;
	if (d->n_blocked < 2 && !dump)
		return 0;
	d->blocked_dirty = false;
	struct kd_report tmp = {0};
	int r = kd_summary_build(&tmp, d->blocked, d->n_blocked);
	if (r <= 0) {
		kd_report_clear(&tmp);
		return r < 0 ? nomem(d) : 0;
	}
	if (d->summary_idx >= 0) {
		struct kd_report *s = &d->reports[d->summary_idx]->r;
		kd_report_clear(s);
		*s = tmp;
		if (d->cb)
			d->cb(s, false, d->userdata);
		return 0;
	}
	if (d->n_reports == d->a_reports) {
		size_t na = d->a_reports ? d->a_reports * 2 : 16;
		struct entry **nr = realloc(d->reports, na * sizeof(*nr));
		if (!nr) {
			kd_report_clear(&tmp);
			return nomem(d);
		}
		d->reports = nr;
		d->a_reports = na;
	}
	struct entry *e = calloc(1, sizeof(*e));
	if (!e) {
		kd_report_clear(&tmp);
		return nomem(d);
	}
	e->r = tmp;
	d->summary_idx = (ssize_t)d->n_reports;
	d->reports[d->n_reports++] = e;
	if (d->cb)
		d->cb(&e->r, true, d->userdata);
	return 0;
}

/* Quiet stream: end reports whose stack is complete (or that need nothing
 * more), keep the ones still waiting for their stack. */
int kd_detector_flush(struct kd_detector *d)
{
	if (d->error)
		return d->error;
	for (size_t i = 0; i < MAX_CTX; i++) {
		struct ctx *c = &d->ctx[i];
		struct rep *r = c->r;
		if (!r)
			continue;
		bool done = r->rule->kind == KK_SYSRQ_W || r->cls < 0 ||
			    (r->rule->end == KE_STACK && r->in_stack) ||
			    (r->rule->end == KE_OOM && r->killed) || r->rule->end == KE_LINE2;
		if (done && finish_report(d, c, false) < 0)
			return d->error;
	}
	return update_summary(d);
}

int kd_detector_finish(struct kd_detector *d)
{
	if (d->error)
		return d->error;
	if (d->line.n || d->line_cut) {
		int r = process_line(d, d->line.p ? d->line.p : "", d->line.n);
		d->line.n = 0;
		d->line_cut = false;
		if (r < 0)
			return r;
	}
	for (size_t i = 0; i < MAX_CTX; i++) {
		struct ctx *c = &d->ctx[i];
		if (!c->r)
			continue;
		struct rep *r = c->r;
		bool complete = r->rule->kind == KK_SYSRQ_W || r->cls < 0 ||
				(r->rule->end == KE_STACK && r->in_stack) ||
				(r->rule->end == KE_OOM && r->killed);
		if (finish_report(d, c, !complete) < 0)
			return d->error;
	}
	return update_summary(d);
}

size_t kd_detector_n_reports(const struct kd_detector *d)
{
	return d->n_reports;
}

const struct kd_report *kd_detector_report(const struct kd_detector *d, size_t i)
{
	return i < d->n_reports ? &d->reports[i]->r : NULL;
}

const char *kd_class_name(enum kd_class c)
{
	static const char *const names[] = {
	    [KD_CLASS_CRASH] = "crash",
	    [KD_CLASS_HANG] = "hang",
	    [KD_CLASS_WARNING] = "warning",
	    [KD_CLASS_LOCKDEP] = "lockdep",
	    [KD_CLASS_MEMSAFETY] = "memory-safety",
	    [KD_CLASS_OOM] = "oom",
	    [KD_CLASS_FSERROR] = "fs-error",
	    [KD_CLASS_SUMMARY] = "summary",
	};
	return (unsigned)c < _KD_CLASS_MAX ? names[c] : "unknown";
}

bool kd_class_is_failure(enum kd_class c)
{
	return c == KD_CLASS_CRASH || c == KD_CLASS_HANG || c == KD_CLASS_WARNING ||
	       c == KD_CLASS_LOCKDEP || c == KD_CLASS_MEMSAFETY || c == KD_CLASS_FSERROR;
}

static struct json_object *jstr(const char *s)
{
	return s ? json_object_new_string(s) : NULL;
}

static struct json_object *jstrv(char *const *l)
{
	struct json_object *a = json_object_new_array();
	for (char *const *p = l; a && p && *p; p++)
		json_object_array_add(a, json_object_new_string(*p));
	return a;
}

struct json_object *kd_report_to_json(const struct kd_report *r)
{
	struct json_object *o = json_object_new_object();
	if (!o)
		return NULL;
	json_object_object_add(o, "class", jstr(kd_class_name(r->cls)));
	json_object_object_add(o, "title", jstr(r->title));
	json_object_object_add(o, "frame", jstr(r->frame));
	json_object_object_add(o, "stack", jstrv(r->stack));
	json_object_object_add(o, "task", jstr(r->task));
	json_object_object_add(o, "first_line", json_object_new_uint64(r->first_line));
	json_object_object_add(o, "last_line", json_object_new_uint64(r->last_line));
	json_object_object_add(o, "corrupted", json_object_new_boolean(r->corrupted));
	json_object_object_add(o, "signature", jstr(r->signature));
	json_object_object_add(o, "count", json_object_new_int64(r->count));
	if (r->cls == KD_CLASS_OOM) {
		json_object_object_add(o, "memcg", jstr(r->memcg));
		json_object_object_add(o, "victim", jstr(r->victim));
	}
	if (r->cls == KD_CLASS_SUMMARY) {
		json_object_object_add(o, "root", jstr(r->root));
		json_object_object_add(o, "text", jstr(r->summary_text));
		struct json_object *g = json_object_new_array();
		for (size_t i = 0; g && i < r->n_groups; i++) {
			struct json_object *x = json_object_new_object();
			if (!x)
				break;
			json_object_object_add(x, "frame", jstr(r->groups[i].frame));
			json_object_object_add(x, "via", jstr(r->groups[i].via));
			json_object_object_add(x, "role", jstr(r->groups[i].role));
			json_object_object_add(x, "count",
					       json_object_new_int64(r->groups[i].count));
			json_object_object_add(x, "tasks", jstrv(r->groups[i].tasks));
			json_object_array_add(g, x);
		}
		json_object_object_add(o, "groups", g);
	}
	json_object_object_add(o, "excerpt", jstr(r->excerpt));
	return o;
}
