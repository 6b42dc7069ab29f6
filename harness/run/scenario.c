// SPDX-License-Identifier: GPL-2.0
/*
 * Scenario parser.  Two passes: ini-doc.h collects every (section, key, value, line)
 * entry, then params, variants and overrides are resolved and every other
 * section is interpreted with ${param} expanded.  Errors: "file:line: key: why".
 */
#include "scenario.h"

#include <ctype.h>
#include <dirent.h>
#include <string.h>

#include "detect.h"
#include "ini-doc.h"
#include "util.h"

struct parser {
	struct ini_doc doc; /* the entries, the first error */
	struct scenario *sc;
};

/* "file:line: key: why" (see ini_doc_fail()); returns -EINVAL */
#define fail(p, line, ...) ini_doc_fail(&(p)->doc, (line), __VA_ARGS__)

static const char *const runtime_vars[] = {"dir",   "mnt",    "duration", "instance", "seed",
					   "slice", "engine", "bindir",	  "run_dir",  NULL};

static bool is_runtime_var(const char *n, size_t len)
{
	for (size_t i = 0; runtime_vars[i]; i++)
		if (strlen(runtime_vars[i]) == len && !strncmp(runtime_vars[i], n, len))
			return true;
	return false;
}

/* ---- helpers ------------------------------------------------------------- */

static bool valid_name(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!(islower((unsigned char)*s) || isdigit((unsigned char)*s) || *s == '-' ||
		      *s == '_'))
			return false;
	return true;
}

static struct sc_param *find_param(struct scenario *sc, const char *name, size_t len)
{
	for (size_t i = 0; i < sc->n_params; i++)
		if (strlen(sc->params[i].name) == len && !strncmp(sc->params[i].name, name, len))
			return &sc->params[i];
	return NULL;
}

/* Expand ${param}; keep run-time variables; "$$" -> "$". */
static int expand(struct parser *p, const struct ini_entry *e, char **ret)
{
	const char *s = e->value;
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	if (!f)
		return -ENOMEM;
	while (*s) {
		if (s[0] == '$' && s[1] == '$') {
			fputc('$', f);
			s += 2;
		} else if (s[0] == '$' && s[1] == '{') {
			const char *end = strchr(s + 2, '}');
			struct sc_param *prm;
			size_t n;

			if (!end) {
				fclose(f);
				free(out);
				return fail(p, e->line, "%s: unterminated '${'", e->key);
			}
			n = (size_t)(end - s - 2);
			if ((prm = find_param(p->sc, s + 2, n)))
				fputs(prm->value, f);
			else if (is_runtime_var(s + 2, n))
				fwrite(s, 1, n + 3, f);
			else {
				fclose(f);
				free(out);
				return fail(p, e->line, "%s: unknown parameter '${%.*s}'", e->key,
					    (int)n, s + 2);
			}
			s = end + 1;
		} else
			fputc(*s++, f);
	}
	if (fclose(f) != 0) {
		free(out);
		return -ENOMEM;
	}
	*ret = out;
	return 0;
}

static int split_words(const char *s, char ***ret)
{
	_cleanup_free_ char *copy = strdup(s);
	char *save = NULL, *w;
	int r;

	if (!copy)
		return -ENOMEM;
	for (w = strtok_r(copy, " \t", &save); w; w = strtok_r(NULL, " \t", &save))
		if ((r = strv_extend(ret, w)) < 0)
			return r;
	return 0;
}

static int compile(struct parser *p, const struct ini_entry *e, const char *v,
		   struct sc_pattern **arr, size_t *n)
{
	struct sc_pattern *na = realloc(*arr, (*n + 1) * sizeof(**arr));
	struct sc_pattern *pt;
	int rc;

	if (!na)
		return -ENOMEM;
	*arr = na;
	pt = &na[*n];
	memset(pt, 0, sizeof(*pt));
	rc = regcomp(&pt->re, v, REG_EXTENDED | REG_NOSUB);
	if (rc != 0) {
		char buf[256];
		regerror(rc, &pt->re, buf, sizeof(buf));
		return fail(p, e->line, "%s: bad regular expression '%s': %s", e->key, v, buf);
	}
	pt->src = strdup(v);
	pt->line = e->line;
	if (!pt->src) {
		regfree(&pt->re);
		return -ENOMEM;
	}
	(*n)++;
	return 0;
}

static int parse_classes(struct parser *p, const struct ini_entry *e, const char *v, unsigned *mask)
{
	_cleanup_strv_ char **w = NULL;
	int r = split_words(v, &w);

	if (r < 0)
		return r;
	STRV_FOREACH (c, w) {
		int k;
		if (!strcmp(*c, "any")) {
			for (k = 0; k < _KD_CLASS_MAX; k++)
				if (kd_class_is_failure((enum kd_class)k))
					*mask |= 1u << k;
			continue;
		}
		for (k = 0; k < _KD_CLASS_MAX; k++)
			if (!strcmp(kd_class_name((enum kd_class)k), *c))
				break;
		if (k == _KD_CLASS_MAX)
			return fail(p, e->line,
				    "%s: unknown report class '%s' (crash hang warning lockdep "
				    "memory-safety oom fs-error summary any)",
				    e->key, *c);
		*mask |= 1u << k;
	}
	return 0;
}

static int get_u(struct parser *p, const struct ini_entry *e, const char *v, unsigned min,
		 unsigned max, unsigned *ret)
{
	uint64_t x;

	if (parse_u64(v, &x) < 0 || x < min || x > max)
		return fail(p, e->line, "%s: '%s' is not a number in %u..%u", e->key, v, min, max);
	*ret = (unsigned)x;
	return 0;
}

static int get_size(struct parser *p, const struct ini_entry *e, const char *v, uint64_t *ret)
{
	if (parse_size(v, ret) < 0)
		return fail(p, e->line, "%s: '%s' is not a size (e.g. 64M, 1G)", e->key, v);
	return 0;
}

/* A duration in min..max seconds (bounded: timers are armed from it). */
static int get_secs(struct parser *p, const struct ini_entry *e, const char *v, double min,
		    double max, double *ret)
{
	int r = parse_seconds_range(v, min, max, ret);

	if (r == -ERANGE)
		return fail(p, e->line, "%s: '%s' is out of range (%gs to %g%s)", e->key, v, min,
			    max >= 86400 ? max / 86400 : max, max >= 86400 ? " days" : "s");
	if (r < 0)
		return fail(p, e->line, "%s: '%s' is not a duration (e.g. 30, 30s, 5m)", e->key, v);
	return 0;
}

static int get_bool(struct parser *p, const struct ini_entry *e, const char *v, bool *ret)
{
	if (!strcmp(v, "yes") || !strcmp(v, "true") || !strcmp(v, "1") || !strcmp(v, "on"))
		*ret = true;
	else if (!strcmp(v, "no") || !strcmp(v, "false") || !strcmp(v, "0") || !strcmp(v, "off"))
		*ret = false;
	else
		return fail(p, e->line, "%s: '%s' is not a boolean (yes/no)", e->key, v);
	return 0;
}

struct keyword {
	const char *name;
	int value;
};

/* v must name one of kw[] ({NULL}-terminated): its value, or fail "key: 'v' must be choices". */
static int get_keyword(struct parser *p, const struct ini_entry *e, const char *v,
		       const struct keyword *kw, const char *choices)
{
	for (; kw->name; kw++)
		if (!strcmp(kw->name, v))
			return kw->value;
	return fail(p, e->line, "%s: '%s' must be %s", e->key, v, choices);
}

/* A number in min..max for a 64-bit cgroup limit. */
static int get_limit(struct parser *p, const struct ini_entry *e, const char *v, unsigned min,
		     unsigned max, uint64_t *ret)
{
	unsigned u = 0;
	int r = get_u(p, e, v, min, max, &u);

	if (r == 0)
		*ret = u;
	return r;
}

static int set_str(struct parser *p, const struct ini_entry *e, const char *v, char **dst)
{
	if (*dst)
		return fail(p, e->line, "%s: given twice", e->key);
	if (!(*dst = strdup(v)))
		return -ENOMEM;
	return 0;
}

static int append_text(char **dst, const char *v)
{
	char *n = *dst ? strdupf("%s %s", *dst, v) : strdup(v);
	if (!n)
		return -ENOMEM;
	free(*dst);
	*dst = n;
	return 0;
}

#define GROW(arr, n)                                                                               \
	({                                                                                         \
		__typeof__(arr) _a = realloc((arr), ((n) + 1) * sizeof(*(arr)));                   \
		int _r = -ENOMEM;                                                                  \
		if (_a) {                                                                          \
			(arr) = _a;                                                                \
			memset(&(arr)[(n)], 0, sizeof(*(arr)));                                    \
			(n)++;                                                                     \
			_r = 0;                                                                    \
		}                                                                                  \
		_r;                                                                                \
	})

/* ---- sections ------------------------------------------------------------ */

static int do_scenario_key(struct parser *p, const struct ini_entry *e, const char *v)
{
	struct scenario *sc = p->sc;
	const char *k = e->key;

	if (!strcmp(k, "name")) {
		if (!valid_name(v))
			return fail(p, e->line, "name: '%s' must be [a-z0-9_-]+", v);
		return set_str(p, e, v, &sc->name);
	}
	if (!strcmp(k, "description"))
		return append_text(&sc->description, v);
	if (!strcmp(k, "seed"))
		return set_str(p, e, v, &sc->seed);
	if (!strcmp(k, "expect")) {
		static const char *const ok[] = {"PASS", "BUG", "HANG", "WARN", "ANOMALY", NULL};
		for (size_t i = 0; ok[i]; i++)
			if (!strcmp(v, ok[i]))
				return set_str(p, e, v, &sc->expect);
		return fail(p, e->line, "expect: '%s' (PASS BUG HANG WARN ANOMALY)", v);
	}
	if (!strcmp(k, "fixed_by")) {
		size_t n = strspn(v, "0123456789abcdef");
		if (n < 7 || n > 40 || (v[n] && v[n] != ' ' && v[n] != '\t'))
			return fail(p, e->line,
				    "fixed_by: '%s': expected <commit (7-40 hex)> [<subject>]", v);
		return strv_extend(&sc->fixed_by, v);
	}
	if (!strcmp(k, "needs_config")) {
		_cleanup_strv_ char **w = NULL;
		int r = split_words(v, &w);
		if (r < 0)
			return r;
		STRV_FOREACH (o, w) {
			if (!startswith(*o, "CONFIG_") || !(*o)[7] ||
			    strspn(*o + 7, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") != strlen(*o + 7))
				return fail(p, e->line, "needs_config: '%s' is not CONFIG_[A-Z0-9_]+", *o);
			if (strv_extend(&sc->needs_config, *o) < 0)
				return -ENOMEM;
		}
		return 0;
	}
	if (!strcmp(k, "seed_fixture")) {
		if (v[0] == '/' || strstr(v, "..") || !*v)
			return fail(p, e->line,
				    "seed_fixture: '%s' must be a path inside the tree, without '..'", v);
		return set_str(p, e, v, &sc->seed_fixture);
	}
	if (!strcmp(k, "duration") || !strcmp(k, "timeout")) /* timeout: the old name */
		return get_secs(p, e, v, KD_DURATION_MIN, KD_DURATION_MAX, &sc->duration);
	if (!strcmp(k, "grace"))
		return get_secs(p, e, v, 0, 3600, &sc->grace);
	if (!strcmp(k, "cant_die_timeout"))
		return get_secs(p, e, v, 1, 3600, &sc->cant_die_timeout);
	if (!strcmp(k, "stop_on")) {
		static const struct keyword stop_on[] = {
		    {"first", SC_STOP_FIRST}, {"never", SC_STOP_NEVER}, {NULL, 0}};
		int x = get_keyword(p, e, v, stop_on, "first or never");
		if (x < 0)
			return x;
		sc->stop_on = (enum sc_stop_on)x;
		return 0;
	}
	if (!strcmp(k, "until")) {
		_cleanup_strv_ char **w = NULL;
		int r = split_words(v, &w);
		if (r < 0)
			return r;
		sc->until = (struct sc_until){0};
		STRV_FOREACH (c, w) {
			static const char *const names[] = {"ops", "oom_kills", "restarts", NULL};
			uint64_t *dst[] = {&sc->until.ops, &sc->until.oom_kills, &sc->until.restarts};
			const char *ge = strstr(*c, ">=");
			size_t i;
			uint64_t x;

			for (i = 0; names[i]; i++)
				if (ge && (size_t)(ge - *c) == strlen(names[i]) &&
				    !strncmp(*c, names[i], strlen(names[i])))
					break;
			if (!ge || !names[i] || parse_u64(ge + 2, &x) < 0 || x < 1 || x > 1000000000)
				return fail(p, e->line,
					    "until: '%s' is not COUNTER>=N (ops, oom_kills, restarts; "
					    "N 1..1e9)",
					    *c);
			*dst[i] = x;
		}
		return 0;
	}
	if (!strcmp(k, "modes")) {
		_cleanup_strv_ char **w = NULL;
		int r = split_words(v, &w);
		bool host = false;
		if (r < 0)
			return r;
		STRV_FOREACH (m, w) {
			if (!strcmp(*m, "host"))
				host = true;
			else if (strcmp(*m, "vm"))
				return fail(p, e->line, "modes: unknown mode '%s' (host vm)", *m);
		}
		if (!host && !sc->host_refusal &&
		    !(sc->host_refusal = strdup("the scenario runs in a VM only (modes = vm)")))
			return -ENOMEM;
		return 0;
	}
	if (!strcmp(k, "host_refusal")) {
		free(sc->host_refusal);
		return (sc->host_refusal = strdup(v)) ? 0 : -ENOMEM;
	}
	if (!strcmp(k, "signature"))
		return compile(p, e, v, &sc->signature, &sc->n_signature);
	if (!strcmp(k, "signature_frame"))
		return compile(p, e, v, &sc->signature_frame, &sc->n_signature_frame);
	if (!strcmp(k, "signature_class"))
		return parse_classes(p, e, v, &sc->signature_classes);
	if (!strcmp(k, "allow"))
		return compile(p, e, v, &sc->allow, &sc->n_allow);
	if (!strcmp(k, "allow_class"))
		return parse_classes(p, e, v, &sc->allow_classes);
	return fail(p, e->line, "%s: unknown key in [scenario]", k);
}

static int do_fs_key(struct parser *p, const struct ini_entry *e, const char *v, struct sc_fs *fs)
{
	const char *k = e->key;

	if (!strcmp(k, "type")) {
		static const char *const types[] = {"ext2", "ext3", "ext4", "xfs", "nfs", NULL};
		for (size_t i = 0; types[i]; i++)
			if (!strcmp(types[i], v))
				return set_str(p, e, v, &fs->type);
		return fail(p, e->line, "type: unknown filesystem '%s' (ext2 ext3 ext4 xfs nfs)",
			    v);
	}
	if (!strcmp(k, "mkfs")) {
		if (!fs->mkfs_line)
			fs->mkfs_line = e->line;
		return split_words(v, &fs->mkfs_opts);
	}
	if (!strcmp(k, "mount") || !strcmp(k, "mount_options")) {
		if (!*v)
			return 0;
		return set_str(p, e, v, &fs->mount_opts);
	}
	if (!strcmp(k, "size")) {
		int r = get_size(p, e, v, &fs->size);
		if (r == 0 && (fs->size < (16ULL << 20) || fs->size > (16ULL << 40)))
			return fail(p, e->line, "size: '%s' must be from 16M to 16T", v);
		return r;
	}
	if (!strcmp(k, "server"))
		return set_str(p, e, v, &fs->server);
	if (!strcmp(k, "dm")) {
		if (!*v || !strcmp(v, "none"))
			return 0;
		if (strcmp(v, "linear"))
			return fail(p, e->line, "dm: '%s' must be linear or none", v);
		return set_str(p, e, v, &fs->dm);
	}
	return fail(p, e->line, "%s: unknown key in [fs.%s]", k, fs->name);
}

static int do_slice_key(struct parser *p, const struct ini_entry *e, const char *v,
			struct sc_slice *s)
{
	const char *k = e->key;
	struct kdcg_limits *l = &s->limits;
	int r;

	if (!strcmp(k, "memory_max"))
		return get_size(p, e, v, &l->memory_max);
	if (!strcmp(k, "memory_high"))
		return get_size(p, e, v, &l->memory_high);
	if (!strcmp(k, "swap_max")) {
		if ((r = get_size(p, e, v, &l->swap_max)) < 0)
			return r;
		if (l->swap_max == 0)
			l->swap_max = KDCG_SWAP_ZERO;
		return 0;
	}
	if (!strcmp(k, "cpu_weight"))
		return get_limit(p, e, v, 1, 10000, &l->cpu_weight);
	if (!strcmp(k, "io_weight"))
		return get_limit(p, e, v, 1, 10000, &l->io_weight);
	if (!strcmp(k, "cpu_quota")) {
		_cleanup_free_ char *c = strdup(v);
		if (!c)
			return -ENOMEM;
		if (endswith(c, "%"))
			c[strlen(c) - 1] = 0;
		return get_limit(p, e, c, 1, 100000, &l->cpu_quota_pct);
	}
	if (!strcmp(k, "pids_max"))
		return get_limit(p, e, v, 1, 4194304, &l->pids_max);
	if (!strcmp(k, "count"))
		return get_u(p, e, v, 1, 1000, &s->count);
	return fail(p, e->line, "%s: unknown key in [slice.%s]", k, s->name);
}

static int do_proc_key(struct parser *p, const struct ini_entry *e, const char *v,
		       struct sc_proc *pr)
{
	const char *k = e->key;

	if (!strcmp(k, "program")) {
		if (pr->kind == SC_REPRO && (strchr(v, '/') || !valid_name(v)))
			return fail(p, e->line, "program: '%s' must be a kdrill reproducer name",
				    v);
		pr->program_line = e->line;
		return set_str(p, e, v, &pr->program);
	}
	if (!strcmp(k, "args"))
		return split_words(v, &pr->args);
	if (!strcmp(k, "slice")) {
		pr->slice_line = e->line;
		return set_str(p, e, v, &pr->slice);
	}
	if (!strcmp(k, "fs")) {
		pr->fs_line = e->line;
		return set_str(p, e, v, &pr->fs);
	}
	if (!strcmp(k, "instances"))
		return get_u(p, e, v, 0, 10000, &pr->instances);
	if (!strcmp(k, "restart")) {
		static const struct keyword restart[] = {{"no", KDCG_RESTART_NO},
							 {"on-failure", KDCG_RESTART_ON_FAILURE},
							 {"always", KDCG_RESTART_ALWAYS},
							 {NULL, 0}};
		int x = get_keyword(p, e, v, restart, "no, on-failure or always");
		if (x < 0)
			return x;
		pr->restart = (enum kdcg_restart)x;
		return 0;
	}
	if (!strcmp(k, "restart_max"))
		return get_u(p, e, v, 0, 1000000, &pr->restart_max);
	if (!strcmp(k, "on_fail")) {
		static const struct keyword on_fail[] = {{"infra", SC_FAIL_INFRA},
							 {"anomaly", SC_FAIL_ANOMALY},
							 {"ignore", SC_FAIL_IGNORE},
							 {NULL, 0}};
		int x = get_keyword(p, e, v, on_fail, "infra, anomaly or ignore");
		if (x < 0)
			return x;
		pr->on_fail = (enum sc_on_fail)x;
		return 0;
	}
	if (pr->kind == SC_REPRO) {
		if (!strcmp(k, "engine") || !strcmp(k, "engines")) {
			_cleanup_strv_ char **w = NULL;
			int r = split_words(v, &w);
			if (r < 0)
				return r;
			STRV_FOREACH (x, w)
				if (strcmp(*x, "libaio") && strcmp(*x, "io_uring"))
					return fail(p, e->line,
						    "%s: unknown engine '%s' (libaio io_uring)", k,
						    *x);
			STRV_FOREACH (x, w)
				if ((r = strv_extend(&pr->engines, *x)) < 0)
					return r;
			return 0;
		}
		if (!strcmp(k, "threads")) {
			unsigned u;
			int r = get_u(p, e, v, 1, 4096, &u);
			return r < 0 ? r : set_str(p, e, v, &pr->threads);
		}
		if (!strcmp(k, "size")) {
			uint64_t x;
			int r = get_size(p, e, v, &x);
			return r < 0 ? r : set_str(p, e, v, &pr->size);
		}
	} else if (!strcmp(k, "stop_at_end"))
		return get_bool(p, e, v, &pr->stop_at_end);
	return fail(p, e->line, "%s: unknown key in [%s.%s]", k, sc_kind_name(pr->kind), pr->name);
}

static int do_action_key(struct parser *p, const struct ini_entry *e, const char *v,
			 struct sc_action *a)
{
	const char *k = e->key;

	if (!strcmp(k, "op")) {
		static const struct keyword ops[] = {{"dm-suspend", SC_ACT_DM_SUSPEND},
						     {"sysrq", SC_ACT_SYSRQ},
						     {"drop-caches", SC_ACT_DROP_CACHES},
						     {"nfs-server-stop", SC_ACT_NFS_SERVER_STOP},
						     {NULL, 0}};
		int x =
		    get_keyword(p, e, v, ops, "dm-suspend, sysrq, drop-caches or nfs-server-stop");
		if (x < 0)
			return x;
		a->op = (enum sc_action_op)x;
		return 0;
	}
	if (!strcmp(k, "at"))
		return get_secs(p, e, v, 0, KD_DURATION_MAX, &a->at);
	if (!strcmp(k, "every")) {
		int r = get_secs(p, e, v, 0, KD_DURATION_MAX, &a->every);
		if (r == 0 && a->every > 0 && a->every < 0.01)
			return fail(p, e->line, "every: '%s' is shorter than 10ms", v);
		return r;
	}
	if (!strcmp(k, "hold"))
		return get_secs(p, e, v, 0, KD_DURATION_MAX, &a->hold);
	if (!strcmp(k, "fs"))
		return set_str(p, e, v, &a->fs);
	if (!strcmp(k, "key") || !strcmp(k, "value"))
		return set_str(p, e, v, &a->arg);
	return fail(p, e->line, "%s: unknown key in [action.%s]", k, a->name);
}

static int do_vm_key(struct parser *p, const struct ini_entry *e, const char *v)
{
	struct sc_vm *vm = &p->sc->vm;
	const char *k = e->key;
	uint64_t x;

	if (!strcmp(k, "hung_task_timeout"))
		return get_secs(p, e, v, 0, 86400, &vm->hung_task_timeout);
	if (!strcmp(k, "hung_task_scan"))
		return get_secs(p, e, v, 0, 86400, &vm->hung_task_scan);
	if (!strcmp(k, "cmdline"))
		return split_words(v, &vm->cmdline);
	if (!strcmp(k, "panic_on_warn"))
		return get_bool(p, e, v, &vm->panic_on_warn);
	if (!strcmp(k, "oops_panic"))
		return get_bool(p, e, v, &vm->oops_panic);
	if (!strcmp(k, "disks"))
		return get_u(p, e, v, 0, 16, &vm->disks);
	if (!strcmp(k, "cpus"))
		return get_u(p, e, v, 1, 64, &vm->cpus);
	if (!strcmp(k, "memory")) {
		int r = get_size(p, e, v, &x);
		if (r == 0)
			vm->memory = x;
		return r;
	}
	return fail(p, e->line, "%s: unknown key in [vm]", k);
}

/* ---- duplicate keys -------------------------------------------------------- */

/* Keys that may be repeated: their values add up (lists, text continued on the next line). */
static bool repeatable_key(const char *k)
{
	static const char *const rep[] = {
	    "description",     "args",	"mkfs",	       "cmdline", "signature", "signature_frame",
	    "signature_class", "allow", "allow_class", "engine",  "engines",   "fixed_by",
	    "needs_config",    NULL};
	for (size_t i = 0; rep[i]; i++)
		if (!strcmp(rep[i], k))
			return true;
	return false;
}

/* Aliases count as the same key ("duration" then "timeout" is a duplicate too). */
static const char *canonical_key(const char *k)
{
	static const char *const alias[][2] = {{"duration", "timeout"},
					       {"mount_options", "mount"},
					       {"value", "key"},
					       {"engines", "engine"}};
	for (size_t i = 0; i < ELEMENTSOF(alias); i++)
		if (!strcmp(alias[i][0], k))
			return alias[i][1];
	return k;
}

static int cmp_entry(const void *a, const void *b)
{
	const struct ini_entry *x = *(const struct ini_entry *const *)a,
			       *y = *(const struct ini_entry *const *)b;
	int c = strcmp(x->section, y->section);
	if (!c)
		c = strcmp(canonical_key(x->key), canonical_key(y->key));
	return c ? c : (x->line > y->line) - (x->line < y->line);
}

/* A single-valued key given twice in one section is an error, whatever the key (the
 * second would silently win otherwise); list keys add up. */
static int check_duplicates(struct parser *p)
{
	_cleanup_free_ struct ini_entry **v = NULL;
	const struct ini_entry *dup = NULL, *first = NULL;

	if (p->doc.n < 2)
		return 0;
	if (!(v = malloc(p->doc.n * sizeof(*v))))
		return -ENOMEM;
	for (size_t i = 0; i < p->doc.n; i++)
		v[i] = &p->doc.e[i];
	qsort(v, p->doc.n, sizeof(*v), cmp_entry);
	for (size_t i = 1; i < p->doc.n; i++)
		if (!strcmp(v[i]->section, v[i - 1]->section) &&
		    !strcmp(canonical_key(v[i]->key), canonical_key(v[i - 1]->key)) &&
		    !repeatable_key(v[i]->key) && (!dup || v[i]->line < dup->line)) {
			dup = v[i]; /* sorted by line within a key: v[i - 1] came first */
			first = v[i - 1];
		}
	if (dup)
		return fail(p, dup->line, "%s: given twice in [%s] (first on line %u)", dup->key,
			    dup->section, first->line);
	return 0;
}

/* ---- mkfs options --------------------------------------------------------------- */

/* The options mkfs.TYPE takes (getopt strings of e2fsprogs 1.47 mke2fs and xfsprogs 6.1
 * mkfs.xfs).  Every word of mkfs = must be one of them or its argument: a stray word
 * would be taken as the device to format, and kdrill's own device is always the last
 * argument. */
static const char *mkfs_optstring(const char *type)
{
	if (startswith(type, "ext"))
		return "b:cd:e:g:G:i:jl:m:no:qr:s:t:vC:DE:FI:J:KL:M:N:O:R:ST:U:Vz:";
	if (!strcmp(type, "xfs"))
		return "b:c:d:i:l:L:m:n:KNp:qr:s:CfV";
	return NULL;
}

/* Options whose argument names another file or device that mkfs would write to. */
static const char *mkfs_writes_elsewhere(const char *type, char opt, const char *arg)
{
	if (startswith(type, "ext")) {
		if (opt == 'z')
			return "writes an undo file";
		if (opt == 'J' && strstr(arg, "device="))
			return "formats an external journal device";
	} else {
		if ((opt == 'd' || opt == 'l' || opt == 'r') &&
		    (strstr(arg, "name=") || strstr(arg, "file") || strstr(arg, "logdev") ||
		     strstr(arg, "rtdev")))
			return "names another file or device";
	}
	return NULL;
}

static int check_mkfs(struct parser *p, const struct sc_fs *fs)
{
	const char *opts = mkfs_optstring(fs->type);
	char *const *w = fs->mkfs_opts;
	unsigned line = fs->mkfs_line ? fs->mkfs_line : fs->line;

	if (!w || !*w)
		return 0;
	if (!opts)
		return fail(p, line, "mkfs: not for type %s", fs->type);
	for (size_t i = 0; w[i]; i++) {
		const char *word = w[i];
		if (word[0] != '-' || !word[1] || word[1] == '-')
			return fail(p, line,
				    "mkfs: '%s' is not an option of mkfs.%s (kdrill formats only "
				    "its own device, always the last argument)",
				    word, fs->type);
		for (size_t j = 1; word[j]; j++) {
			const char *o = word[j] != ':' ? strchr(opts, word[j]) : NULL, *arg, *why;
			if (!o)
				return fail(p, line, "mkfs: unknown option -%c of mkfs.%s", word[j],
					    fs->type);
			if (o[1] != ':')
				continue;
			arg = word[j + 1] ? word + j + 1 : w[++i];
			if (!arg)
				return fail(p, line, "mkfs: -%c needs an argument", word[j]);
			if ((why = mkfs_writes_elsewhere(fs->type, word[j], arg)))
				return fail(p, line,
					    "mkfs: -%c %s %s: kdrill formats only its own "
					    "device",
					    word[j], arg, why);
			break;
		}
	}
	return 0;
}

/* ---- pass 2 -------------------------------------------------------------- */

static const char *dotted(const char *section, const char *prefix)
{
	size_t n = strlen(prefix);
	return !strncmp(section, prefix, n) && section[n] == '.' ? section + n + 1 : NULL;
}

static int collect_params(struct parser *p)
{
	struct scenario *sc = p->sc;

	for (size_t i = 0; i < p->doc.n; i++) {
		struct ini_entry *e = &p->doc.e[i];
		const char *name = dotted(e->section, "param");
		struct sc_param *prm;

		if (!name)
			continue;
		e->used = true;
		if (!valid_name(name) || strchr(name, '-'))
			return fail(p, e->line, "[param.%s]: parameter names are [a-z0-9_]+", name);
		if (is_runtime_var(name, strlen(name)))
			return fail(p, e->line, "[param.%s]: '%s' is a run-time variable", name,
				    name);
		prm = find_param(sc, name, strlen(name));
		if (!prm) {
			if (GROW(sc->params, sc->n_params) < 0)
				return -ENOMEM;
			prm = &sc->params[sc->n_params - 1];
			if (!(prm->name = strdup(name)))
				return -ENOMEM;
			prm->line = e->line;
		}
		if (!strcmp(e->key, "default")) {
			int r = set_str(p, e, e->value, &prm->def);
			if (r < 0)
				return r;
		} else if (!strcmp(e->key, "description")) {
			if (append_text(&prm->description, e->value) < 0)
				return -ENOMEM;
		} else
			return fail(p, e->line,
				    "%s: unknown key in [param.%s] (default description)", e->key,
				    name);
	}
	for (size_t i = 0; i < sc->n_params; i++) {
		struct sc_param *prm = &sc->params[i];
		if (!prm->def)
			return fail(p, prm->line, "[param.%s]: default: missing", prm->name);
		if (strstr(prm->def, "${"))
			return fail(p, prm->line, "default: parameters cannot refer to others");
		if (!(prm->value = strdup(prm->def)))
			return -ENOMEM;
	}
	return 0;
}

static int collect_variants(struct parser *p)
{
	struct scenario *sc = p->sc;

	for (size_t i = 0; i < p->doc.n; i++) {
		struct ini_entry *e = &p->doc.e[i];
		const char *name = dotted(e->section, "variant");
		struct sc_variant *v = NULL;

		if (!name)
			continue;
		e->used = true;
		if (!valid_name(name))
			return fail(p, e->line, "[variant.%s]: variant names are [a-z0-9_-]+",
				    name);
		for (size_t j = 0; j < sc->n_variants; j++)
			if (!strcmp(sc->variants[j].name, name))
				v = &sc->variants[j];
		if (!v) {
			if (GROW(sc->variants, sc->n_variants) < 0)
				return -ENOMEM;
			v = &sc->variants[sc->n_variants - 1];
			if (!(v->name = strdup(name)))
				return -ENOMEM;
			v->line = e->line;
		}
		if (!strcmp(e->key, "description")) {
			if (append_text(&v->description, e->value) < 0)
				return -ENOMEM;
			continue;
		}
		if (!find_param(sc, e->key, strlen(e->key)))
			return fail(p, e->line, "%s: variant sets an undeclared parameter", e->key);
		if (strstr(e->value, "${"))
			return fail(p, e->line, "%s: variant values cannot refer to parameters",
				    e->key);
		{
			_cleanup_free_ char *kv = strdupf("%s=%s", e->key, e->value);
			if (!kv || strv_extend(&v->sets, kv) < 0)
				return -ENOMEM;
		}
	}
	return 0;
}

/* "${" outside "$$" escapes */
static bool has_variable(const char *s)
{
	for (; *s; s++) {
		if (s[0] == '$' && s[1] == '$')
			s++;
		else if (s[0] == '$' && s[1] == '{')
			return true;
	}
	return false;
}

static int apply_set(struct scenario *sc, const char *kv, bool from_cli)
{
	const char *eq = strchr(kv, '=');
	struct sc_param *prm;
	char *nv;

	if (!eq)
		return -EINVAL;
	prm = find_param(sc, kv, (size_t)(eq - kv));
	if (!prm)
		return -ENOENT;
	if (!(nv = strdup(eq + 1)))
		return -ENOMEM;
	free(prm->value);
	prm->value = nv;
	if (from_cli)
		prm->overridden = true;
	return 0;
}

static int interpret(struct parser *p)
{
	struct scenario *sc = p->sc;
	int r;

	for (size_t i = 0; i < p->doc.n; i++) {
		struct ini_entry *e = &p->doc.e[i];
		_cleanup_free_ char *v = NULL;
		const char *name;

		if (e->used)
			continue;
		if ((r = expand(p, e, &v)) < 0)
			return r;
		if (!strcmp(e->section, "scenario")) {
			r = do_scenario_key(p, e, v);
		} else if (!strcmp(e->section, "vm")) {
			sc->vm.line = sc->vm.line ? sc->vm.line : e->line;
			r = do_vm_key(p, e, v);
		} else if ((name = dotted(e->section, "fs"))) {
			struct sc_fs *fs = NULL;
			for (size_t j = 0; j < sc->n_fs; j++)
				if (!strcmp(sc->fs[j].name, name))
					fs = &sc->fs[j];
			if (!fs) {
				if (!valid_name(name))
					return fail(p, e->line, "[fs.%s]: names are [a-z0-9_-]+",
						    name);
				if (GROW(sc->fs, sc->n_fs) < 0)
					return -ENOMEM;
				fs = &sc->fs[sc->n_fs - 1];
				if (!(fs->name = strdup(name)))
					return -ENOMEM;
				fs->line = e->line;
			}
			r = do_fs_key(p, e, v, fs);
		} else if ((name = dotted(e->section, "slice"))) {
			struct sc_slice *s = NULL;
			for (size_t j = 0; j < sc->n_slices; j++)
				if (!strcmp(sc->slices[j].name, name))
					s = &sc->slices[j];
			if (!s) {
				if (!valid_name(name) || strchr(name, '_'))
					return fail(p, e->line, "[slice.%s]: names are [a-z0-9-]+",
						    name);
				if (GROW(sc->slices, sc->n_slices) < 0)
					return -ENOMEM;
				s = &sc->slices[sc->n_slices - 1];
				if (!(s->name = strdup(name)))
					return -ENOMEM;
				s->line = e->line;
				s->count = 1;
			}
			r = do_slice_key(p, e, v, s);
		} else if ((name = dotted(e->section, "repro")) ||
			   (name = dotted(e->section, "load"))) {
			enum sc_kind kind = startswith(e->section, "repro.") ? SC_REPRO : SC_LOAD;
			struct sc_proc *pr = NULL;
			for (size_t j = 0; j < sc->n_procs; j++)
				if (!strcmp(sc->procs[j].name, name)) {
					pr = &sc->procs[j];
					if (pr->kind != kind)
						return fail(p, e->line,
							    "[%s]: name already used by [%s.%s]",
							    e->section, sc_kind_name(pr->kind),
							    name);
				}
			if (!pr) {
				if (!valid_name(name) || strchr(name, '_'))
					return fail(p, e->line, "[%s]: names are [a-z0-9-]+",
						    e->section);
				if (GROW(sc->procs, sc->n_procs) < 0)
					return -ENOMEM;
				pr = &sc->procs[sc->n_procs - 1];
				if (!(pr->name = strdup(name)))
					return -ENOMEM;
				pr->kind = kind;
				pr->line = e->line;
				pr->instances = 1;
				pr->on_fail = kind == SC_LOAD ? SC_FAIL_INFRA : SC_FAIL_ANOMALY;
				pr->stop_at_end = true;
			}
			r = do_proc_key(p, e, v, pr);
		} else if ((name = dotted(e->section, "action"))) {
			struct sc_action *a = NULL;
			for (size_t j = 0; j < sc->n_actions; j++)
				if (!strcmp(sc->actions[j].name, name))
					a = &sc->actions[j];
			if (!a) {
				if (GROW(sc->actions, sc->n_actions) < 0)
					return -ENOMEM;
				a = &sc->actions[sc->n_actions - 1];
				if (!(a->name = strdup(name)))
					return -ENOMEM;
				a->line = e->line;
				a->op = (enum sc_action_op) - 1;
			}
			r = do_action_key(p, e, v, a);
		} else {
			return fail(
			    p, e->line,
			    "[%s]: unknown section (scenario param.X variant.X fs.X slice.X "
			    "repro.X load.X action.X vm)",
			    e->section);
		}
		if (r < 0)
			return r;
	}
	return 0;
}

static int need_config(struct scenario *sc, const char *opt)
{
	if (strv_contains(sc->needs_config, opt))
		return 0;
	return strv_extend(&sc->needs_config, opt);
}

/* What a filesystem of the scenario needs from the kernel under test, added to its
 * needs_config: a kernel built without XFS (the slim test kernel) then says "cannot
 * test: the kernel lacks CONFIG_XFS_FS" before booting, not a mount error after it. */
static int need_fs_config(struct scenario *sc, const struct sc_fs *fs)
{
	static const struct {
		const char *type, *opts[3];
	} map[] = {
		{"xfs", {"CONFIG_XFS_FS"}},
		{"ext4", {"CONFIG_EXT4_FS"}},
		{"nfs", {"CONFIG_NFS_FS", "CONFIG_NFSD"}},
	};
	int r;

	if (fs->dm && (r = need_config(sc, "CONFIG_BLK_DEV_DM")) < 0)
		return r;
	for (size_t i = 0; i < ELEMENTSOF(map); i++) {
		if (strcmp(fs->type, map[i].type))
			continue;
		for (size_t j = 0; j < ELEMENTSOF(map[i].opts) && map[i].opts[j]; j++)
			if ((r = need_config(sc, map[i].opts[j])) < 0)
				return r;
	}
	return 0;
}

static int validate(struct parser *p)
{
	struct scenario *sc = p->sc;
	uint64_t units = 0;
	int r;

	if (!sc->name)
		return fail(p, 0, "[scenario] name: missing");
	if (sc->duration <= 0)
		return fail(p, 0, "[scenario] duration: missing or zero");
	if (sc->n_procs == 0)
		return fail(p, 0, "no [repro.X] or [load.X] section: nothing to run");
	for (size_t i = 0; i < sc->n_fs; i++) {
		struct sc_fs *fs = &sc->fs[i];
		if (!fs->type)
			return fail(p, fs->line, "type: missing in [fs.%s]", fs->name);
		if (!strcmp(fs->type, "nfs")) {
			const struct sc_fs *srv = fs->server ? scenario_fs(sc, fs->server) : NULL;
			if (!srv || !strcmp(srv->type ? srv->type : "nfs", "nfs"))
				return fail(p, fs->line,
					    "server: [fs.%s] (type nfs) needs server = <a local "
					    "[fs.X] to export>",
					    fs->name);
			if (!sc->host_refusal &&
			    !(sc->host_refusal = strdup("needs an NFS server and client (the "
							"host has neither): run it in a VM")))
				return -ENOMEM;
		} else {
			if (fs->server)
				return fail(p, fs->line, "server: only for type nfs");
			if (!fs->size)
				fs->size = 1ULL << 30;
		}
		if ((r = check_mkfs(p, fs)) < 0)
			return r;
		if ((r = need_fs_config(sc, fs)) < 0)
			return r;
		if (fs->dm && !sc->host_refusal &&
		    !(sc->host_refusal = strdup("needs device-mapper (absent on the host): run "
						"it in a VM")))
			return -ENOMEM;
	}
	for (size_t i = 0; i < sc->n_procs; i++) {
		struct sc_proc *pr = &sc->procs[i];
		if (!pr->program)
			return fail(p, pr->line, "program: missing in [%s.%s]",
				    sc_kind_name(pr->kind), pr->name);
		if (pr->slice && !scenario_slice(sc, pr->slice))
			return fail(p, pr->slice_line, "slice: no [slice.%s] in this scenario",
				    pr->slice);
		if (pr->fs && !scenario_fs(sc, pr->fs))
			return fail(p, pr->fs_line, "fs: no [fs.%s] in this scenario", pr->fs);
		if (pr->kind == SC_REPRO && sc->n_fs == 0)
			return fail(p, pr->line, "[repro.%s]: reproducers need an [fs.X] to run in",
				    pr->name);
		{
			const struct sc_slice *sl =
			    pr->slice ? scenario_slice(sc, pr->slice) : NULL;
			uint64_t ne = pr->engines ? strv_length(pr->engines) : 1;
			units += (uint64_t)(sl ? sl->count : 1) * ne * pr->instances;
		}
		if (units > SC_INSTANCES_MAX)
			return fail(
			    p, pr->line,
			    "[%s.%s]: the scenario would start %llu units (slices x engines "
			    "x instances, all sections so far); at most %u",
			    sc_kind_name(pr->kind), pr->name, (unsigned long long)units,
			    SC_INSTANCES_MAX);
	}
	for (size_t i = 0; i < sc->n_actions; i++) {
		struct sc_action *a = &sc->actions[i];
		if ((int)a->op < 0)
			return fail(p, a->line, "op: missing in [action.%s]", a->name);
		if (a->op == SC_ACT_DM_SUSPEND) {
			const struct sc_fs *fs = a->fs ? scenario_fs(sc, a->fs) : NULL;
			if (!fs || !fs->dm)
				return fail(
				    p, a->line,
				    "fs: dm-suspend needs fs = <an [fs.X] with dm = linear>");
			if (a->hold <= 0)
				return fail(p, a->line, "hold: dm-suspend needs hold > 0");
		}
		if (a->op == SC_ACT_SYSRQ) {
			if (!a->arg || strlen(a->arg) != 1)
				return fail(p, a->line, "key: sysrq needs key = one character");
			/* host mode only on a disposable test device (--dut) */
			sc->host_destructive = true;
		}
		if (a->op == SC_ACT_NFS_SERVER_STOP) {
			const struct sc_fs *fs = NULL;
			if (a->fs) {
				fs = scenario_fs(sc, a->fs);
				if (!fs || strcmp(fs->type, "nfs"))
					return fail(
					    p, a->line,
					    "fs: nfs-server-stop needs fs = <an [fs.X] with "
					    "type = nfs>");
			} else
				for (size_t j = 0; j < sc->n_fs && !fs; j++)
					if (!strcmp(sc->fs[j].type, "nfs"))
						fs = &sc->fs[j];
			if (!fs)
				return fail(p, a->line,
					    "op: nfs-server-stop needs an [fs.X] with type = nfs "
					    "(the loopback server it stops)");
			if (a->hold <= 0)
				return fail(p, a->line,
					    "hold: nfs-server-stop needs hold > 0 (how long the "
					    "server stays down)");
			if (a->every > 0 && a->every <= a->hold)
				return fail(p, a->line,
					    "every: must be longer than hold (the server is down "
					    "for hold seconds each time)");
		}
		if (a->op == SC_ACT_DROP_CACHES && !a->arg && !(a->arg = strdup("3")))
			return -ENOMEM;
	}
	sc->host_ok = sc->host_refusal == NULL;
	if (!sc->signature_classes && !sc->n_signature && !sc->n_signature_frame)
		return fail(p, 0, "[scenario] signature: missing (which report is the bug?)");
	if (sc->grace <= 0)
		sc->grace = 15;
	return 0;
}

static int parse_file(struct parser *p, const char *text, char *const *overrides,
		      const char *variant)
{
	struct scenario *sc = p->sc;
	int r;

	r = ini_doc_parse(&p->doc, sc->path, text,
			  "continue the value on indented lines or repeat the key");
	if (r < 0)
		return r;
	if ((r = check_duplicates(p)) < 0)
		return r;
	if ((r = collect_params(p)) < 0)
		return r;
	if ((r = collect_variants(p)) < 0)
		return r;
	if (sc->n_variants) {
		struct sc_variant *v = &sc->variants[0];
		if (variant) {
			v = NULL;
			for (size_t i = 0; i < sc->n_variants; i++)
				if (!strcmp(sc->variants[i].name, variant))
					v = &sc->variants[i];
			if (!v) {
				_cleanup_free_ char *names = NULL;
				for (size_t i = 0; i < sc->n_variants; i++)
					if (append_text(&names, sc->variants[i].name) < 0)
						return -ENOMEM;
				return fail(p, 0, "unknown variant '%s' (%s)", variant, names);
			}
		}
		if (!(sc->variant = strdup(v->name)))
			return -ENOMEM;
		STRV_FOREACH (kv, v->sets)
			if ((r = apply_set(sc, *kv, false)) < 0)
				return r;
	} else if (variant)
		return fail(p, 0, "unknown variant '%s' (the scenario has no variants)", variant);
	STRV_FOREACH (kv, (char **)overrides) {
		const char *val = strchr(*kv, '=');
		if (val && strlen(val + 1) > SC_PARAM_MAX)
			return fail(p, 0, "--param %.*s: the value is %zu bytes long (at most %u)",
				    (int)(val - *kv), *kv, strlen(val + 1), SC_PARAM_MAX);
		if (val && has_variable(val + 1))
			return fail(p, 0,
				    "--param %.*s: values cannot refer to variables ('${'); write "
				    "'$${' for a literal",
				    (int)(val - *kv), *kv);
		for (const char *c = val ? val + 1 : ""; *c; c++)
			if ((unsigned char)*c < 0x20 || *c == 0x7f)
				return fail(p, 0,
					    "--param %.*s: control character 0x%02x in the value",
					    (int)(val - *kv), *kv, (unsigned)(unsigned char)*c);
		r = apply_set(sc, *kv, true);
		if (r == -EINVAL)
			return fail(p, 0, "--param %s: expected NAME=VALUE", *kv);
		if (r == -ENOENT) {
			_cleanup_free_ char *names = NULL;
			for (size_t i = 0; i < sc->n_params; i++)
				if (append_text(&names, sc->params[i].name) < 0)
					return -ENOMEM;
			return fail(p, 0, "--param %s: unknown parameter (known: %s)", *kv,
				    names ? names : "none");
		}
		if (r < 0)
			return r;
	}
	if ((r = interpret(p)) < 0)
		return r;
	return validate(p);
}

static int resolve(const char *name_or_path, char **ret_path, char **ret_variant)
{
	_cleanup_free_ char *copy = strdup(name_or_path);
	char *colon;
	int r;

	if (!copy)
		return -ENOMEM;
	*ret_variant = NULL;
	colon = strrchr(copy, ':');
	if (colon && !strchr(colon, '/')) {
		*colon = 0;
		if (!(*ret_variant = strdup(colon + 1)))
			return -ENOMEM;
	}
	if (strchr(copy, '/') || endswith(copy, ".ini")) {
		if (access(copy, R_OK) < 0) {
			free(*ret_variant);
			*ret_variant = NULL;
			return -errno;
		}
		*ret_path = TAKE_PTR(copy);
		return 0;
	}
	r = scenario_find(copy, ret_path);
	if (r < 0) {
		free(*ret_variant);
		*ret_variant = NULL;
	}
	return r;
}

int scenario_load(const char *name_or_path, char *const *overrides, struct scenario **ret,
		  char **errmsg)
{
	_cleanup_free_ char *path = NULL, *variant = NULL, *text = NULL;
	struct parser p = {0};
	struct scenario *sc;
	int r;

	*errmsg = NULL;
	r = resolve(name_or_path, &path, &variant);
	if (r < 0) {
		*errmsg = r == -ENOENT
			      ? strdupf("%s: unknown scenario (see 'kdrill list')", name_or_path)
			      : strdupf("%s: %s", name_or_path, strerror(-r));
		return r;
	}
	r = ini_doc_read_file(path, SC_FILE_MAX, &text, errmsg);
	if (r < 0)
		return r;
	if (!(sc = calloc(1, sizeof(*sc))))
		return -ENOMEM;
	sc->path = strdup(path);
	if (!sc->path) {
		scenario_free(sc);
		return -ENOMEM;
	}
	p.sc = sc;
	r = parse_file(&p, text, overrides, variant && strcmp(variant, "") ? variant : NULL);
	if (r < 0) {
		*errmsg = p.doc.err ? TAKE_PTR(p.doc.err) : strdupf("%s: %s", path, strerror(-r));
		ini_doc_done(&p.doc);
		scenario_free(sc);
		return r;
	}
	ini_doc_done(&p.doc);
	*ret = sc;
	return 0;
}

/* What collect_params() / collect_variants() allocate (scenario_variants() stops there). */
static void free_params(struct sc_param *a, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(a[i].name);
		free(a[i].def);
		free(a[i].value);
		free(a[i].description);
	}
	free(a);
}

static void free_variants(struct sc_variant *a, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(a[i].name);
		free(a[i].description);
		strv_free(a[i].sets);
	}
	free(a);
}

int scenario_variants(const char *name_or_path, char ***ret, char **errmsg)
{
	_cleanup_free_ char *path = NULL, *variant = NULL, *text = NULL;
	struct scenario sc = {0};
	struct parser p = {.sc = &sc};
	char **names = NULL;
	int r;

	*errmsg = NULL;
	r = resolve(name_or_path, &path, &variant);
	if (r < 0) {
		*errmsg = strdupf("%s: unknown scenario (see 'kdrill list')", name_or_path);
		return r;
	}
	if ((r = ini_doc_read_file(path, SC_FILE_MAX, &text, errmsg)) < 0)
		return r;
	r = ini_doc_parse(&p.doc, path, text, NULL);
	if (r == 0)
		r = collect_params(&p);
	if (r == 0)
		r = collect_variants(&p);
	for (size_t i = 0; r >= 0 && i < sc.n_variants; i++)
		r = strv_extend(&names, sc.variants[i].name);
	free_variants(sc.variants, sc.n_variants);
	free_params(sc.params, sc.n_params);
	if (r < 0) {
		strv_free(names);
		*errmsg = TAKE_PTR(p.doc.err);
		ini_doc_done(&p.doc);
		return r;
	}
	ini_doc_done(&p.doc);
	*ret = names;
	return 0;
}

static void free_patterns(struct sc_pattern *a, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		regfree(&a[i].re);
		free(a[i].src);
	}
	free(a);
}

double scenario_duration(const struct scenario *sc, double requested)
{
	return requested > 0 ? requested : sc->duration;
}

void scenario_free(struct scenario *sc)
{
	if (!sc)
		return;
	free(sc->path);
	free(sc->name);
	free(sc->variant);
	free(sc->description);
	free(sc->seed);
	free(sc->expect);
	strv_free(sc->fixed_by);
	strv_free(sc->needs_config);
	free(sc->seed_fixture);
	free(sc->host_refusal);
	free_patterns(sc->signature, sc->n_signature);
	free_patterns(sc->signature_frame, sc->n_signature_frame);
	free_patterns(sc->allow, sc->n_allow);
	free_params(sc->params, sc->n_params);
	free_variants(sc->variants, sc->n_variants);
	for (size_t i = 0; i < sc->n_fs; i++) {
		free(sc->fs[i].name);
		free(sc->fs[i].type);
		strv_free(sc->fs[i].mkfs_opts);
		free(sc->fs[i].mount_opts);
		free(sc->fs[i].server);
		free(sc->fs[i].dm);
	}
	free(sc->fs);
	for (size_t i = 0; i < sc->n_slices; i++)
		free(sc->slices[i].name);
	free(sc->slices);
	for (size_t i = 0; i < sc->n_procs; i++) {
		struct sc_proc *pr = &sc->procs[i];
		free(pr->name);
		free(pr->program);
		strv_free(pr->args);
		free(pr->slice);
		free(pr->fs);
		strv_free(pr->engines);
		free(pr->threads);
		free(pr->size);
	}
	free(sc->procs);
	for (size_t i = 0; i < sc->n_actions; i++) {
		free(sc->actions[i].name);
		free(sc->actions[i].fs);
		free(sc->actions[i].arg);
	}
	free(sc->actions);
	strv_free(sc->vm.cmdline);
	free(sc);
}

/* ---- lookup -------------------------------------------------------------- */

static int search_dirs(char ***ret)
{
	const char *env = getenv("KDRILL_SCENARIOS");
	char **dirs = NULL;
	_cleanup_free_ char *d = NULL;
	int r;

	if (env && *env) {
		_cleanup_free_ char *copy = strdup(env);
		char *save = NULL;
		if (!copy)
			return -ENOMEM;
		for (char *x = strtok_r(copy, ":", &save); x; x = strtok_r(NULL, ":", &save))
			if ((r = strv_extend(&dirs, x)) < 0) {
				strv_free(dirs);
				return r;
			}
	}
	d = strdupf("%s/harness/scenarios", kd_datadir());
	if (!d || strv_extend(&dirs, d) < 0) {
		strv_free(dirs);
		return -ENOMEM;
	}
	*ret = dirs;
	return 0;
}

int scenario_find(const char *name, char **ret_path)
{
	_cleanup_strv_ char **dirs = NULL;
	int r;

	if (!valid_name(name))
		return -ENOENT;
	if ((r = search_dirs(&dirs)) < 0)
		return r;
	STRV_FOREACH (d, dirs) {
		char *p = strdupf("%s/%s.ini", *d, name);
		if (!p)
			return -ENOMEM;
		if (access(p, R_OK) == 0) {
			*ret_path = p;
			return 0;
		}
		free(p);
	}
	return -ENOENT;
}

static int cmp_base(const void *a, const void *b)
{
	const char *x = strrchr(*(char *const *)a, '/'), *y = strrchr(*(char *const *)b, '/');
	return strcmp(x ? x : "", y ? y : "");
}

int scenario_list_files(char ***ret_paths)
{
	_cleanup_strv_ char **dirs = NULL;
	char **out = NULL;
	int r;

	if ((r = search_dirs(&dirs)) < 0)
		return r;
	STRV_FOREACH (d, dirs) {
		DIR *dir = opendir(*d);
		struct dirent *de;
		if (!dir)
			continue;
		while ((de = readdir(dir))) {
			bool dup = false;
			if (!endswith(de->d_name, ".ini") || de->d_name[0] == '.')
				continue;
			STRV_FOREACH (o, out)
				if (!strcmp(strrchr(*o, '/') + 1, de->d_name))
					dup = true;
			if (dup)
				continue;
			char *p = strdupf("%s/%s", *d, de->d_name);
			if (!p || strv_push(&out, p) < 0) {
				free(p);
				closedir(dir);
				strv_free(out);
				return -ENOMEM;
			}
		}
		closedir(dir);
	}
	if (out)
		qsort(out, strv_length(out), sizeof(char *), cmp_base);
	*ret_paths = out;
	return 0;
}

int scenario_expand_runtime(const char *s, char *const *vars, char **ret)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);
	int r = 0;

	if (!f)
		return -ENOMEM;
	while (*s) {
		if (s[0] == '$' && s[1] == '$') {
			fputc('$', f);
			s += 2;
		} else if (s[0] == '$' && s[1] == '{') {
			const char *end = strchr(s + 2, '}');
			size_t n;
			bool found = false;
			if (!end) {
				r = -EINVAL;
				break;
			}
			n = (size_t)(end - s - 2);
			STRV_FOREACH (v, (char **)vars)
				if (!strncmp(*v, s + 2, n) && (*v)[n] == '=') {
					fputs(*v + n + 1, f);
					found = true;
					break;
				}
			if (!found) {
				r = -EINVAL;
				break;
			}
			s = end + 1;
		} else
			fputc(*s++, f);
	}
	if (fclose(f) != 0 && r == 0)
		r = -ENOMEM;
	if (r < 0) {
		free(out);
		return r;
	}
	*ret = out;
	return 0;
}

const struct sc_slice *scenario_slice(const struct scenario *sc, const char *name)
{
	for (size_t i = 0; i < sc->n_slices; i++)
		if (!strcmp(sc->slices[i].name, name))
			return &sc->slices[i];
	return NULL;
}

const struct sc_fs *scenario_fs(const struct scenario *sc, const char *name)
{
	for (size_t i = 0; i < sc->n_fs; i++)
		if (!strcmp(sc->fs[i].name, name))
			return &sc->fs[i];
	return NULL;
}

const char *sc_kind_name(enum sc_kind k)
{
	return k == SC_REPRO ? "repro" : "load";
}

const char *sc_restart_name(enum kdcg_restart r)
{
	switch (r) {
	case KDCG_RESTART_ON_FAILURE:
		return "on-failure";
	case KDCG_RESTART_ALWAYS:
		return "always";
	default:
		return "no";
	}
}
