// SPDX-License-Identifier: GPL-2.0
/* Night-over-night comparison of matrix cells (compare.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "compare.h"
#include "stats.h"
#include "util.h"

#define FIXED_ALPHA 0.05

static const char *const change_names[_MX_CHANGE_MAX] = {
    [MX_NEW_FAILURE] = "new failure",
    [MX_FIXED] = "fixed",
    [MX_FLAKY] = "flaky",
    [MX_STILL_FAILING] = "still failing",
    [MX_INFRA] = "infra",
    [MX_PASS] = "pass",
    [MX_NOT_RUN] = "not run",
};
static const char *const change_ids[_MX_CHANGE_MAX] = {
    [MX_NEW_FAILURE] = "new-failure",
    [MX_FIXED] = "fixed",
    [MX_FLAKY] = "flaky",
    [MX_STILL_FAILING] = "still-failing",
    [MX_INFRA] = "infra",
    [MX_PASS] = "pass",
    [MX_NOT_RUN] = "not-run",
};

const char *mx_change_name(enum mx_change c)
{
	return c < _MX_CHANGE_MAX ? change_names[c] : "?";
}

const char *mx_change_id(enum mx_change c)
{
	return c < _MX_CHANGE_MAX ? change_ids[c] : "?";
}

void mx_tally_cell(const struct mx_night *n, const char *key, struct mx_tally *t)
{
	*t = (struct mx_tally){0};
	for (size_t i = 0; i < n->n; i++) {
		const struct mx_entry *e = &n->e[i];
		if (strcmp(e->cell, key))
			continue;
		if (e->infra)
			t->infra++;
		else {
			t->n++;
			t->slots++;
			if (e->failure) {
				t->fails++;
				t->matches += e->match;
			}
		}
	}
}

const struct mx_known *mx_known_match(const struct mx_plan *plan, const struct mx_entry *e)
{
	if (!plan || !e->failure)
		return NULL;
	for (size_t i = 0; i < plan->n_known; i++) {
		const struct mx_known *k = &plan->known[i];
		if (k->scenario && strcmp(k->scenario, e->scenario))
			continue;
		if ((e->title && strstr(e->title, k->match)) ||
		    (e->signature && strstr(e->signature, k->match)) ||
		    (!e->title && e->reason && strstr(e->reason, k->match)))
			return k;
	}
	return NULL;
}

void mx_analysis_free(struct mx_analysis *a)
{
	if (!a)
		return;
	for (size_t i = 0; i < a->n_cells; i++) {
		free(a->cells[i].spec);
		free(a->cells[i].runs);
	}
	free(a->cells);
	strv_free(a->kernels);
	strv_free(a->specs);
	free(a);
}

/* the column of a cell: the key without its kernel */
static char *key_spec(const char *key, const char *kernel)
{
	size_t lk = strlen(kernel);
	if (!strncmp(key, kernel, lk) && key[lk] == ' ')
		return strdup(key + lk + 1);
	return strdup(key);
}

static int add_cell(struct mx_analysis *a, const char *key, const char *kernel,
		    const char *scenario, const char *variant)
{
	for (size_t i = 0; i < a->n_cells; i++)
		if (!strcmp(a->cells[i].key, key))
			return 0;
	struct mx_cellres *nc = realloc(a->cells, (a->n_cells + 1) * sizeof(*nc));
	if (!nc)
		return -ENOMEM;
	a->cells = nc;
	struct mx_cellres *c = &a->cells[a->n_cells++];
	*c = (struct mx_cellres){
	    .key = key, .kernel = kernel, .scenario = scenario, .variant = variant};
	c->spec = key_spec(key, kernel);
	if (!c->spec)
		return -ENOMEM;
	if (!strv_contains(a->kernels, kernel) && strv_extend(&a->kernels, kernel) < 0)
		return -ENOMEM;
	if (!strv_contains(a->specs, c->spec) && strv_extend(&a->specs, c->spec) < 0)
		return -ENOMEM;
	return 0;
}

static void classify(const struct mx_store *s, const struct mx_night *night,
		     const struct mx_plan *plan, struct mx_cellres *c)
{
	size_t ni = (size_t)(night - s->nights);
	unsigned hist_limit = plan ? plan->history : 7;

	mx_tally_cell(night, c->key, &c->cur);
	/* reference */
	if (plan && plan->compare == MX_COMPARE_BASELINE) {
		if (strcmp(c->kernel, plan->baseline)) {
			_cleanup_free_ char *bkey = strdupf("%s %s", plan->baseline, c->spec);
			if (bkey) {
				mx_tally_cell(night, bkey, &c->ref);
				c->has_ref = c->ref.n > 0;
				c->ref_night = night->id;
			}
		}
	}
	/* history: earlier nights with this cell */
	for (size_t i = ni; i-- > 0 && c->hist_nights < hist_limit;) {
		struct mx_tally t;
		mx_tally_cell(&s->nights[i], c->key, &t);
		if (!t.n)
			continue;
		if (!c->hist_nights && !(plan && plan->compare == MX_COMPARE_BASELINE)) {
			c->ref = t;
			c->has_ref = true;
			c->ref_night = s->nights[i].id;
		}
		c->hist_nights++;
		c->hist_n += t.n;
		c->hist_fails += t.fails;
	}

	/* against a baseline, the baseline's runs tonight are the history that counts first:
	 * failing there too is not a regression of this kernel */
	if (c->has_ref && plan && plan->compare == MX_COMPARE_BASELINE) {
		c->hist_n += c->ref.n;
		c->hist_fails += c->ref.fails;
	}
	const struct mx_tally *t = &c->cur;
	c->rate = (c->hist_n + t->n) ? (double)(c->hist_fails + t->fails) / (c->hist_n + t->n) : 0;
	if (t->n == 0)
		c->change = t->infra ? MX_INFRA : MX_NOT_RUN;
	else if (t->fails > 0) {
		if (c->hist_fails == 0)
			c->change = MX_NEW_FAILURE; /* clean history: new, whatever its rate */
		else if (c->has_ref && c->ref.fails > 0 && t->fails == t->n &&
			 c->hist_fails == c->hist_n)
			c->change = MX_STILL_FAILING;
		else
			c->change = MX_FLAKY; /* both outcomes tonight or in the history */
	} else if (c->has_ref && c->ref.fails > 0) {
		/* a pass after failures: fixed only if the old rate would have shown */
		c->fixed_p =
		    stats_fisher_greater((long)c->ref.fails, (long)c->ref.n, 0, (long)t->n);
		if (c->fixed_p < FIXED_ALPHA)
			c->change = MX_FIXED;
		else {
			double p = (double)c->ref.fails / c->ref.n;
			long need = stats_runs_for_zero(p, 1 - FIXED_ALPHA);
			c->change = MX_FLAKY;
			c->fixed_runs_needed = need > (long)t->n ? need - (long)t->n : 1;
		}
	} else if (c->hist_fails > 0)
		c->change = MX_FLAKY;
	else
		c->change = MX_PASS;

	/* known: every failing run tonight is covered */
	if (t->fails) {
		const struct mx_known *k = NULL;
		bool all = true;
		for (size_t i = 0; i < c->n_runs; i++) {
			if (!c->runs[i]->failure)
				continue;
			const struct mx_known *m = mx_known_match(plan, c->runs[i]);
			if (!m)
				all = false;
			else if (!k)
				k = m;
		}
		if (all)
			c->known = k;
	}
}

int mx_analyze(const struct mx_store *s, const struct mx_night *night, const struct mx_plan *plan,
	       struct mx_analysis **ret)
{
	struct mx_analysis *a = calloc(1, sizeof(*a));
	int r = 0;

	if (!a)
		return -ENOMEM;
	a->night = night;
	for (size_t i = 0; i < s->n; i++)
		if (&s->nights[i] == night && i > 0)
			a->prev = &s->nights[i - 1];
	if (plan)
		for (size_t i = 0; i < plan->n_cells && r >= 0; i++) {
			const struct mx_cell *pc = &plan->cells[i];
			r = add_cell(a, pc->key, pc->kernel, pc->scenario, pc->variant);
		}
	for (size_t i = 0; i < night->n && r >= 0; i++) {
		const struct mx_entry *e = &night->e[i];
		r = add_cell(a, e->cell, e->kernel, e->scenario, e->variant);
	}
	if (r < 0) {
		mx_analysis_free(a);
		return r;
	}
	for (size_t i = 0; i < a->n_cells; i++) {
		struct mx_cellres *c = &a->cells[i];
		for (size_t j = 0; j < night->n; j++) {
			const struct mx_entry *e = &night->e[j];
			if (strcmp(e->cell, c->key))
				continue;
			const struct mx_entry **nr =
			    realloc(c->runs, (c->n_runs + 1) * sizeof(*nr));
			if (!nr) {
				mx_analysis_free(a);
				return -ENOMEM;
			}
			c->runs = nr;
			c->runs[c->n_runs++] = e;
			if (e->failure && !c->first_fail)
				c->first_fail = e;
		}
		classify(s, night, plan, c);
		a->runs += c->cur.n + c->cur.infra;
		a->fails += c->cur.fails;
		a->infra += c->cur.infra;
		if (c->known)
			a->known++;
		else
			a->counts[c->change]++;
	}
	*ret = a;
	return 0;
}
