// SPDX-License-Identifier: GPL-2.0
/*
 * Matrix plan parser.  Pass 1 collects (section, key, value, line) entries with
 * ini-doc.h, as scenario.c does; pass 2 interprets them, expands kernel ranges, loads
 * every scenario (unknown scenario/variant/parameter -> error at the plan's line) and
 * builds the cells.  Errors name the plan file, the line and the key.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ini-doc.h"
#include "plan.h"
#include "scenario.h"
#include "util.h"

uint64_t mx_hash64(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 0x100000001b3ULL;
	}
	return h;
}

bool mx_cell_in_shard(const struct mx_cell *c, unsigned shard_i, unsigned shard_n)
{
	if (shard_n <= 1)
		return true;
	return mx_hash64(c->key) % shard_n == shard_i - 1;
}

const struct mx_cell *mx_plan_cell(const struct mx_plan *p, const char *key)
{
	for (size_t i = 0; i < p->n_cells; i++)
		if (!strcmp(p->cells[i].key, key))
			return &p->cells[i];
	return NULL;
}

char *mx_cell_spec(const struct mx_cell *c)
{
	return c->variant ? strdupf("%s:%s", c->scenario, c->variant) : strdup(c->scenario);
}

int mx_expand_range(const char *s, char ***ret, const char **why)
{
	_cleanup_strv_ char **out = NULL;
	const char *lb = strchr(s, '{'), *rb, *dots;
	uint64_t a, b;
	int width = 0;

	*why = NULL;
	if (!lb) {
		if (strchr(s, '}')) {
			*why = "'}' without '{'";
			return -EINVAL;
		}
		if (strv_extend(&out, s) < 0)
			return -ENOMEM;
		*ret = TAKE_PTR(out);
		return 0;
	}
	rb = strchr(lb, '}');
	if (!rb) {
		*why = "'{' without '}'";
		return -EINVAL;
	}
	if (strchr(rb + 1, '{') || strchr(rb + 1, '}')) {
		*why = "only one {A..B} range per kernel ref";
		return -EINVAL;
	}
	dots = strstr(lb, "..");
	if (!dots || dots > rb) {
		*why = "a range is {A..B} with two integers";
		return -EINVAL;
	}
	_cleanup_free_ char *as = strndup(lb + 1, (size_t)(dots - lb - 1));
	_cleanup_free_ char *bs = strndup(dots + 2, (size_t)(rb - dots - 2));
	if (!as || !bs)
		return -ENOMEM;
	if (!*as || !*bs || parse_u64(as, &a) < 0 || parse_u64(bs, &b) < 0 ||
	    strspn(as, "0123456789") != strlen(as) || strspn(bs, "0123456789") != strlen(bs)) {
		*why = "a range is {A..B} with two integers";
		return -EINVAL;
	}
	if (a > b) {
		*why = "range goes down (A > B)";
		return -EINVAL;
	}
	if (b - a >= 1000) {
		*why = "range has more than 1000 kernels";
		return -EINVAL;
	}
	if (as[0] == '0' && as[1])
		width = (int)strlen(as);
	for (uint64_t v = a; v <= b; v++) {
		char *item =
		    strdupf("%.*s%0*llu%s", (int)(lb - s), s, width, (unsigned long long)v, rb + 1);
		if (!item || strv_push(&out, item) < 0)
			return -ENOMEM;
	}
	*ret = TAKE_PTR(out);
	return 0;
}

void mx_plan_free(struct mx_plan *p)
{
	if (!p)
		return;
	free(p->path);
	free(p->name);
	free(p->text);
	free(p->baseline);
	free(p->scratch);
	strv_free(p->kernels);
	for (size_t i = 0; i < p->n_cells; i++) {
		free(p->cells[i].key);
		free(p->cells[i].kernel);
		free(p->cells[i].scenario);
		free(p->cells[i].variant);
		strv_free(p->cells[i].params);
	}
	free(p->cells);
	for (size_t i = 0; i < p->n_known; i++) {
		free(p->known[i].name);
		free(p->known[i].match);
		free(p->known[i].scenario);
		free(p->known[i].note);
		free(p->known[i].link);
	}
	free(p->known);
	free(p);
}

static const char *const kernel_schemes[] = {
    "debian:", "path:", "tree:", "build:", "inject:", NULL};

static bool kernel_ref_ok(const char *ref)
{
	for (size_t i = 0; kernel_schemes[i]; i++)
		if (startswith(ref, kernel_schemes[i]) && ref[strlen(kernel_schemes[i])])
			return !strpbrk(ref, " \t");
	return false;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* One scenario line: "NAME[:VARIANT|:all] [k=v ...]" -> specs (variants expanded) and
 * sorted params; each spec loaded with the params to validate them. */
struct scen_line {
	char **specs; /* "name" or "name:variant" */
	char **params;
	unsigned line;
};

static int parse_scenario_line(struct ini_doc *p, const struct ini_entry *e, struct scen_line *out)
{
	_cleanup_free_ char *copy = strdup(e->value);
	_cleanup_strv_ char **words = NULL;
	char *save = NULL;
	int r;

	if (!copy)
		return -ENOMEM;
	for (char *w = strtok_r(copy, " \t", &save); w; w = strtok_r(NULL, " \t", &save))
		if (strv_extend(&words, w) < 0)
			return -ENOMEM;
	if (!words)
		return ini_doc_fail(p, e->line, "scenario: empty");
	out->line = e->line;
	for (size_t i = 1; words[i]; i++) {
		char *eq = strchr(words[i], '=');
		if (!eq || eq == words[i])
			return ini_doc_fail(p, e->line, "scenario: '%s' is not a parameter (k=v)",
					    words[i]);
		for (char **q = out->params; q && *q; q++)
			if (!strncmp(*q, words[i], (size_t)(eq - words[i]) + 1))
				return ini_doc_fail(p, e->line,
						    "scenario: parameter '%.*s' given twice",
						    (int)(eq - words[i]), words[i]);
		if (strv_extend(&out->params, words[i]) < 0)
			return -ENOMEM;
	}
	if (out->params)
		qsort(out->params, strv_length(out->params), sizeof(char *), cmp_str);

	char *colon = strchr(words[0], ':');
	if (colon && !strcmp(colon + 1, "all")) {
		_cleanup_strv_ char **variants = NULL;
		_cleanup_free_ char *msg = NULL;
		*colon = 0;
		r = scenario_variants(words[0], &variants, &msg);
		if (r < 0)
			return ini_doc_fail(p, e->line, "scenario: %s",
					    msg		   ? msg
					    : r == -ENOENT ? "unknown scenario"
							   : strerror(-r));
		STRV_FOREACH (v, variants) {
			char *s = strdupf("%s:%s", words[0], *v);
			if (!s || strv_push(&out->specs, s) < 0)
				return -ENOMEM;
		}
		if (!out->specs && strv_extend(&out->specs, words[0]) < 0)
			return -ENOMEM;
	} else if (strv_extend(&out->specs, words[0]) < 0)
		return -ENOMEM;

	STRV_FOREACH (s, out->specs) {
		_cleanup_(scenario_freep) struct scenario *sc = NULL;
		_cleanup_free_ char *msg = NULL;
		r = scenario_load(*s, out->params, &sc, &msg);
		if (r == -ENOMEM)
			return r;
		if (r < 0)
			return ini_doc_fail(p, e->line, "scenario: %s: %s", *s,
					    msg		   ? msg
					    : r == -ENOENT ? "unknown scenario"
							   : strerror(-r));
	}
	return 0;
}

static int parse_seconds_key(struct ini_doc *p, const struct ini_entry *e, double *ret,
			     bool zero_ok)
{
	double v;
	int r;

	if (zero_ok && parse_seconds(e->value, &v) >= 0 && v == 0) {
		*ret = 0;
		return 0;
	}
	r = parse_seconds_range(e->value, KD_DURATION_MIN, KD_DURATION_MAX, &v);
	if (r == -ERANGE)
		return ini_doc_fail(p, e->line, "%s: '%s' is out of range (1s..30 days)", e->key,
				    e->value);
	if (r < 0)
		return ini_doc_fail(p, e->line, "%s: '%s' is not a duration (30, 1.5, 30s, 5m, 2h)",
				    e->key, e->value);
	*ret = v;
	return 0;
}

static int parse_uint_key(struct ini_doc *p, const struct ini_entry *e, unsigned min, unsigned max,
			  unsigned *ret)
{
	uint64_t v;
	if (parse_u64(e->value, &v) < 0 || v < min || v > max)
		return ini_doc_fail(p, e->line, "%s: '%s' is not an integer in %u..%u", e->key,
				    e->value, min, max);
	*ret = (unsigned)v;
	return 0;
}

static int interpret(struct ini_doc *p, struct mx_plan *plan)
{
	unsigned *kernel_lines = NULL;
	size_t n_kernels = 0;
	struct scen_line *sl = NULL;
	size_t n_sl = 0;
	char *compare = NULL;
	unsigned compare_line = 0, baseline_line = 0, target_line = 0, scratch_line = 0;
	bool seen_matrix = false;
	int r = 0;

	plan->runs = 1;
	plan->duration = 60;
	plan->infra_retries = 2;
	plan->history = 7;

	for (size_t i = 0; i < p->n && !p->err; i++) {
		struct ini_entry *e = &p->e[i];
		if (!strcmp(e->section, "matrix")) {
			seen_matrix = true;
			if (!strcmp(e->key, "name")) {
				free(plan->name);
				plan->name = strdup(e->value);
			} else if (!strcmp(e->key, "runs"))
				r = parse_uint_key(p, e, 1, 10000, &plan->runs);
			else if (!strcmp(e->key, "duration"))
				r = parse_seconds_key(p, e, &plan->duration, false);
			else if (!strcmp(e->key, "budget"))
				r = parse_seconds_key(p, e, &plan->budget, true);
			else if (!strcmp(e->key, "boot_timeout"))
				r = parse_seconds_key(p, e, &plan->boot_timeout, false);
			else if (!strcmp(e->key, "infra_retries"))
				r = parse_uint_key(p, e, 0, 100, &plan->infra_retries);
			else if (!strcmp(e->key, "history"))
				r = parse_uint_key(p, e, 2, 1000, &plan->history);
			else if (!strcmp(e->key, "compare")) {
				free(compare);
				compare = strdup(e->value);
				compare_line = e->line;
			} else if (!strcmp(e->key, "baseline")) {
				free(plan->baseline);
				plan->baseline = strdup(e->value);
				baseline_line = e->line;
			} else if (!strcmp(e->key, "target")) {
				if (strcmp(e->value, "vm") && strcmp(e->value, "host"))
					r = ini_doc_fail(p, e->line, "target: '%s': vm or host",
							 e->value);
				plan->host = !strcmp(e->value, "host");
				target_line = e->line;
			} else if (!strcmp(e->key, "scratch")) {
				free(plan->scratch);
				plan->scratch = strdup(e->value);
				scratch_line = e->line;
			} else
				r = ini_doc_fail(p, e->line, "[matrix] %s: unknown key", e->key);
		} else if (!strcmp(e->section, "kernels")) {
			_cleanup_strv_ char **items = NULL;
			const char *why;
			if (strcmp(e->key, "kernel")) {
				r = ini_doc_fail(
				    p, e->line, "[kernels] %s: unknown key (kernel = REF)", e->key);
				break;
			}
			if (mx_expand_range(e->value, &items, &why) < 0) {
				r = why ? ini_doc_fail(p, e->line, "kernel: '%s': bad range: %s",
						       e->value, why)
					: -ENOMEM;
				break;
			}
			STRV_FOREACH (k, items) {
				if (!kernel_ref_ok(*k)) {
					r = ini_doc_fail(
					    p, e->line,
					    "kernel: '%s': not a kernel ref (debian:NAME, "
					    "path:BZIMAGE, tree:DIR, build:NAME, inject:SEED)",
					    *k);
					break;
				}
				unsigned *nl = realloc(kernel_lines, (n_kernels + 1) * sizeof(*nl));
				if (!nl || strv_extend(&plan->kernels, *k) < 0) {
					if (nl)
						kernel_lines = nl;
					r = -ENOMEM;
					break;
				}
				kernel_lines = nl;
				kernel_lines[n_kernels++] = e->line;
			}
		} else if (!strcmp(e->section, "scenarios")) {
			if (strcmp(e->key, "scenario")) {
				r = ini_doc_fail(
				    p, e->line,
				    "[scenarios] %s: unknown key (scenario = NAME[:VARIANT] "
				    "[k=v ...])",
				    e->key);
				break;
			}
			struct scen_line *ns = realloc(sl, (n_sl + 1) * sizeof(*ns));
			if (!ns) {
				r = -ENOMEM;
				break;
			}
			sl = ns;
			sl[n_sl] = (struct scen_line){0};
			r = parse_scenario_line(p, e, &sl[n_sl]);
			n_sl++;
		} else if (startswith(e->section, "known.")) {
			const char *name = e->section + 6;
			struct mx_known *k = NULL;
			for (size_t j = 0; j < plan->n_known; j++)
				if (!strcmp(plan->known[j].name, name))
					k = &plan->known[j];
			if (!k) {
				struct mx_known *nk =
				    realloc(plan->known, (plan->n_known + 1) * sizeof(*nk));
				if (!nk) {
					r = -ENOMEM;
					break;
				}
				plan->known = nk;
				k = &plan->known[plan->n_known++];
				*k = (struct mx_known){.name = strdup(name), .line = e->line};
			}
			char **slot = !strcmp(e->key, "match")	    ? &k->match
				      : !strcmp(e->key, "scenario") ? &k->scenario
				      : !strcmp(e->key, "note")	    ? &k->note
				      : !strcmp(e->key, "link")	    ? &k->link
								    : NULL;
			if (!slot) {
				r = ini_doc_fail(
				    p, e->line,
				    "[%s] %s: unknown key (match, scenario, note, link)",
				    e->section, e->key);
				break;
			}
			free(*slot);
			*slot = strdup(e->value);
		} else {
			r = ini_doc_fail(p, e->line,
					 "[%s]: unknown section ([matrix], [kernels], [scenarios], "
					 "[known.NAME])",
					 e->section);
		}
		if (r < 0)
			break;
	}
	if (r < 0 || p->err)
		goto out;
	if (!seen_matrix) {
		r = ini_doc_fail(p, 0, "[matrix]: missing section");
		goto out;
	}

	for (size_t j = 0; j < plan->n_known; j++) {
		struct mx_known *k = &plan->known[j];
		if (!k->match || !*k->match) {
			r = ini_doc_fail(
			    p, k->line,
			    "[known.%s] match: missing (a title or signature substring)", k->name);
			goto out;
		}
		if (!k->note)
			k->note = strdup("known issue");
	}

	if (plan->host) {
		if (!plan->scratch || !*plan->scratch) {
			r = ini_doc_fail(p, target_line, "target: host needs scratch = DIR");
			goto out;
		}
		if (plan->kernels) {
			r = ini_doc_fail(
			    p, kernel_lines[0],
			    "kernel: target = host runs this machine's kernel (no [kernels])");
			goto out;
		}
		if (strv_extend(&plan->kernels, "host") < 0) {
			r = -ENOMEM;
			goto out;
		}
		unsigned *nl = realloc(kernel_lines, sizeof(*nl));
		if (!nl) {
			r = -ENOMEM;
			goto out;
		}
		kernel_lines = nl;
		kernel_lines[0] = target_line;
		n_kernels = 1;
	} else if (plan->scratch) {
		r = ini_doc_fail(p, scratch_line, "scratch: only with target = host");
		goto out;
	}
	if (!n_kernels) {
		r = ini_doc_fail(p, 0, "[kernels]: no kernel (kernel = REF)");
		goto out;
	}
	if (!n_sl) {
		r = ini_doc_fail(p, 0, "[scenarios]: no scenario (scenario = NAME[:VARIANT])");
		goto out;
	}

	if (!compare || !strcmp(compare, "previous"))
		plan->compare = MX_COMPARE_PREVIOUS;
	else if (!strcmp(compare, "baseline"))
		plan->compare = MX_COMPARE_BASELINE;
	else {
		r = ini_doc_fail(p, compare_line, "compare: '%s': previous or baseline", compare);
		goto out;
	}
	if (plan->compare == MX_COMPARE_BASELINE) {
		if (!plan->baseline) {
			r = ini_doc_fail(p, compare_line,
					 "compare: baseline needs baseline = KERNEL");
			goto out;
		}
		bool found = false;
		STRV_FOREACH (k, plan->kernels)
			found |= !strcmp(*k, plan->baseline);
		if (!found) {
			r = ini_doc_fail(p, baseline_line, "baseline: '%s' is not one of [kernels]",
					 plan->baseline);
			goto out;
		}
	} else if (plan->baseline) {
		r = ini_doc_fail(p, baseline_line, "baseline: only with compare = baseline");
		goto out;
	}

	/* cells: kernels outer, scenarios inner, in plan order */
	for (size_t ki = 0; ki < n_kernels; ki++)
		for (size_t si = 0; si < n_sl; si++)
			STRV_FOREACH (spec, sl[si].specs) {
				_cleanup_free_ char *pj =
				    sl[si].params ? strv_join(sl[si].params, " ") : strdup("");
				if (!pj) {
					r = -ENOMEM;
					goto out;
				}
				char *key = strdupf("%s %s%s%s", plan->kernels[ki], *spec,
						    *pj ? " " : "", pj);
				if (!key) {
					r = -ENOMEM;
					goto out;
				}
				for (size_t c = 0; c < plan->n_cells; c++)
					if (!strcmp(plan->cells[c].key, key)) {
						unsigned first = plan->cells[c].line == sl[si].line
								     ? plan->cells[c].kernel_line
								     : plan->cells[c].line;
						unsigned here = plan->cells[c].line == sl[si].line
								    ? kernel_lines[ki]
								    : sl[si].line;
						r = ini_doc_fail(
						    p, here,
						    "duplicate cell '%s' (first at line %u)", key,
						    first);
						free(key);
						goto out;
					}
				struct mx_cell *nc =
				    realloc(plan->cells, (plan->n_cells + 1) * sizeof(*nc));
				if (!nc) {
					free(key);
					r = -ENOMEM;
					goto out;
				}
				plan->cells = nc;
				struct mx_cell *c = &plan->cells[plan->n_cells];
				const char *colon = strchr(*spec, ':');
				*c = (struct mx_cell){
				    .key = key,
				    .kernel = strdup(plan->kernels[ki]),
				    .scenario = colon ? strndup(*spec, (size_t)(colon - *spec))
						      : strdup(*spec),
				    .variant = colon ? strdup(colon + 1) : NULL,
				    .line = sl[si].line,
				    .kernel_line = kernel_lines[ki],
				    .index = (unsigned)plan->n_cells,
				};
				plan->n_cells++;
				if (!c->kernel || !c->scenario || (colon && !c->variant)) {
					r = -ENOMEM;
					goto out;
				}
				STRV_FOREACH (q, sl[si].params)
					if (strv_extend(&c->params, *q) < 0) {
						r = -ENOMEM;
						goto out;
					}
			}

	/* the hash identifies what the night measures: cells, runs, duration */
	{
		uint64_t h = 0;
		char buf[64];
		snprintf(buf, sizeof(buf), "runs=%u duration=%g", plan->runs, plan->duration);
		h = mx_hash64(buf);
		for (size_t c = 0; c < plan->n_cells; c++)
			h = h * 31 + mx_hash64(plan->cells[c].key);
		snprintf(plan->hash, sizeof(plan->hash), "%016llx", (unsigned long long)h);
	}
	if (!plan->name) {
		const char *b = strrchr(p->path, '/');
		b = b ? b + 1 : p->path;
		plan->name = strndup(b, endswith(b, ".ini") ? strlen(b) - 4 : strlen(b));
	}
	r = plan->name ? 0 : -ENOMEM;
out:
	free(compare);
	free(kernel_lines);
	for (size_t i = 0; i < n_sl; i++) {
		strv_free(sl[i].specs);
		strv_free(sl[i].params);
	}
	free(sl);
	return p->err ? -EINVAL : r;
}

int mx_plan_parse(const char *path, const char *text, struct mx_plan **ret, char **errmsg)
{
	struct ini_doc p = {.path = path};
	struct mx_plan *plan;
	int r;

	*errmsg = NULL;
	plan = calloc(1, sizeof(*plan));
	if (!plan)
		return -ENOMEM;
	plan->path = strdup(path);
	plan->text = strdup(text);
	if (!plan->path || !plan->text) {
		mx_plan_free(plan);
		return -ENOMEM;
	}
	r = ini_doc_parse(&p, path, text, NULL);
	if (r == 0)
		r = interpret(&p, plan);
	if (r < 0) {
		*errmsg = TAKE_PTR(p.err);
		ini_doc_done(&p);
		mx_plan_free(plan);
		return r;
	}
	ini_doc_done(&p);
	*ret = plan;
	return 0;
}

int mx_plan_load(const char *path, struct mx_plan **ret, char **errmsg)
{
	_cleanup_free_ char *text = NULL;
	int r;

	*errmsg = NULL;
	r = ini_doc_read_file(path, 1u << 20, &text, errmsg); /* untrusted: no FIFO, <= 1 MiB */
	if (r < 0)
		return r;
	return mx_plan_parse(path, text, ret, errmsg);
}
