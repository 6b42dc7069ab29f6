// SPDX-License-Identifier: GPL-2.0
/* kdrill run | list | show */
#include <dirent.h>
#include <getopt.h>
#include <limits.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "commands.h"
#include "image.h"
#include "kernel.h"
#include "results.h"
#include "runner.h"
#include "scenario.h"
#include "util.h"
#include "vm-run.h"
#include "vmcore.h"

static void run_usage(FILE *f)
{
	fputs("usage: kdrill run [--host --scratch DIR | --kernel REF] [OPTIONS] SCENARIO...\n"
	      "\n"
	      "SCENARIO is a name from 'kdrill list', NAME:VARIANT, NAME:all (every variant)\n"
	      "or a path to a scenario file.\n"
	      "\n"
	      "  --host               run on this machine (loop devices under --scratch)\n"
	      "  --scratch DIR        where host mode puts its images and mount points\n"
	      "  --dut                host mode on a disposable test device (a LAVA board):\n"
	      "                       also scenarios that crash the kernel on purpose (sysrq)\n"
	      "  --kernel REF         boot REF in a VM and run there (VM mode)\n"
	      "  --duration S         run length (default: the scenario's duration)\n"
	      "  --runs N             repeat each scenario N times and report the rate\n"
	      "  --out DIR            results root (default: $KDRILL_RESULTS or ./results)\n"
	      "  --param K=V          override a scenario parameter (repeatable)\n"
	      "  --stop-on first|never  stop at the first failure report (default: scenario)\n"
	      "  --rand-seed N        base seed of the reproducers' PRNGs (default: random;\n"
	      "                       --seed is the old name)\n"
	      "  --cgroup-backend B   auto|systemd|v2|v1 (default auto; in the VM: systemd)\n"
	      "  --vmcore             VM mode: dump guest memory on a hang or panic\n"
	      "  --boot-timeout S     VM mode: the agent must be ready within S (default 300)\n"
	      "  --quiet              no progress output\n"
	      "  --json               print each verdict.json as one line on stdout\n"
	      "  --signature-only     one git-bisect step: stop at the first run whose report\n"
	      "                       matches the scenario's signature and exit 1; another\n"
	      "                       kernel report or INFRA exits 125 (skip); all clean 0\n"
	      "\n"
	      "exit: 0 all PASS, 1 a kernel bug or anomaly, 125 cannot test, 2 usage\n",
	      f);
}

enum {
	OPT_HOST = 256,
	OPT_SCRATCH,
	OPT_KERNEL,
	OPT_DURATION,
	OPT_RUNS,
	OPT_OUT,
	OPT_PARAM,
	OPT_STOP_ON,
	OPT_SEED,
	OPT_BACKEND,
	OPT_QUIET,
	OPT_JSON,
	OPT_REPLAY_CONSOLE,
	OPT_REPLAY_KMSG,
	OPT_NO_KMSG,
	OPT_BINDIR,
	OPT_VMCORE,
	OPT_BOOT_TIMEOUT,
	OPT_SIGNATURE_ONLY,
	OPT_DUT,
};

static const struct option run_options[] = {
    {"host", no_argument, NULL, OPT_HOST},
    {"dut", no_argument, NULL, OPT_DUT},
    {"scratch", required_argument, NULL, OPT_SCRATCH},
    {"kernel", required_argument, NULL, OPT_KERNEL},
    {"duration", required_argument, NULL, OPT_DURATION},
    {"runs", required_argument, NULL, OPT_RUNS},
    {"out", required_argument, NULL, OPT_OUT},
    {"param", required_argument, NULL, OPT_PARAM},
    {"stop-on", required_argument, NULL, OPT_STOP_ON},
    {"rand-seed", required_argument, NULL, OPT_SEED},
    {"seed", required_argument, NULL, OPT_SEED}, /* the old name of --rand-seed */
    {"cgroup-backend", required_argument, NULL, OPT_BACKEND},
    {"quiet", no_argument, NULL, OPT_QUIET},
    {"json", no_argument, NULL, OPT_JSON},
    /* hidden, for tests */
    {"replay-console", required_argument, NULL, OPT_REPLAY_CONSOLE},
    {"replay-kmsg", required_argument, NULL, OPT_REPLAY_KMSG},
    {"no-kmsg", no_argument, NULL, OPT_NO_KMSG},
    {"bindir", required_argument, NULL, OPT_BINDIR},
    {"vmcore", no_argument, NULL, OPT_VMCORE},
    {"boot-timeout", required_argument, NULL, OPT_BOOT_TIMEOUT},
    {"signature-only", no_argument, NULL, OPT_SIGNATURE_ONLY},
    {"help", no_argument, NULL, 'h'},
    {0},
};

static int usage_dir(const char *opt, const char *dir, const char *why)
{
	fprintf(stderr, "kdrill run: %s '%s': %s\n", opt, dir, why ? why : "not a directory");
	return KD_EXIT_USAGE;
}

/* --scratch and --out: kdrill creates files, directories and mount points there as root;
 * nobody else may be able to plant symlinks in them. */
static int check_dir(const char *opt, const char *dir)
{
	_cleanup_free_ char *why = NULL;
	int r = path_check_private(dir, &why);

	if (r < 0)
		fprintf(stderr, "kdrill run: %s %s: %s\n", opt, dir, why ? why : strerror(-r));
	return r;
}

/* A reproducer the scenario names must exist before anything is set up (a typo is a usage
 * error, not an INFRA after mkfs).  bindir NULL: next to this kdrill binary. */
static int check_programs(const struct scenario *sc, const char *bindir)
{
	_cleanup_free_ char *self = NULL;

	if (!bindir) {
		char exe[PATH_MAX];
		ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
		char *slash;
		if (n <= 0)
			return 0; /* the runner reports it */
		exe[n] = 0;
		if ((slash = strrchr(exe, '/')))
			*slash = 0;
		if (!(self = strdup(exe)))
			return -ENOMEM;
		bindir = self;
	}
	for (size_t i = 0; i < sc->n_procs; i++) {
		const struct sc_proc *pr = &sc->procs[i];
		_cleanup_free_ char *p = NULL;
		if (pr->kind != SC_REPRO)
			continue;
		if (!(p = strdupf("%s/%s", bindir, pr->program)))
			return -ENOMEM;
		if (access(p, X_OK) < 0) {
			fprintf(stderr, "kdrill run: %s:%u: program: no reproducer '%s' (%s: %s)\n",
				sc->path, pr->program_line ? pr->program_line : pr->line,
				pr->program, p, strerror(errno));
			return -ENOENT;
		}
	}
	return 0;
}

/* The scenario's needs_config options that the kernel's config says are not set
 * (" CONFIG_A CONFIG_B" in *missing).  A kernel without config evidence is not refused. */
static bool kernel_lacks(const struct kd_kernel *k, const struct scenario *sc, char **missing)
{
	STRV_FOREACH (o, sc->needs_config) {
		bool known = false;
		_cleanup_free_ char *v = kd_kernel_config_get(k, *o, &known);
		if (known && (!v || (strcmp(v, "y") && strcmp(v, "m")))) {
			char *m = strdupf("%s %s", *missing ? *missing : "", *o);
			if (!m)
				return false;
			free(*missing);
			*missing = m;
		}
	}
	return *missing != NULL;
}

struct tally {
	char *label;
	unsigned n[_V_MAX];
	unsigned runs, matched;
};

int cmd_run(int argc, char **argv)
{
	struct run_opts o = {.stop_on = -1, .handle_signals = true, .cg_backend = KDCG_AUTO};
	_cleanup_strv_ char **params = NULL, **targets = NULL;
	struct scenario **scs = NULL;
	size_t n_scs = 0;
	const char *kernel = NULL;
	unsigned runs = 1;
	bool quiet = false, json = false, any_bad = false, any_infra = false, interrupted = false;
	bool signature_only = false, any_match = false;
	struct tally *tallies = NULL;
	struct vm_run_opts vo = {.stop_on = -1};
	_cleanup_(kd_kernel_freep) struct kd_kernel *kern = NULL;
	_cleanup_free_ char *root = NULL, *initrd = NULL, *mods = NULL, *scratch_abs = NULL;
	int c, rc = KD_EXIT_OK;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", run_options, NULL)) != -1) {
		uint64_t u;
		switch (c) {
		case OPT_HOST:
			o.host = true;
			break;
		case OPT_DUT:
			o.dut = true;
			break;
		case OPT_SCRATCH:
			o.scratch = optarg;
			break;
		case OPT_KERNEL:
			kernel = optarg;
			break;
		case OPT_DURATION:
			if (parse_seconds_range(optarg, KD_DURATION_MIN, KD_DURATION_MAX,
						&o.duration) < 0) {
				fprintf(stderr,
					"kdrill run: --duration: '%s' is not a duration from 1s to "
					"30 days (e.g. 30, 90s, 5m, 2h)\n",
					optarg);
				return KD_EXIT_USAGE;
			}
			break;
		case OPT_RUNS:
			if (parse_u64(optarg, &u) < 0 || u < 1 || u > 100000) {
				fprintf(stderr, "kdrill run: --runs: '%s' must be 1..100000\n",
					optarg);
				return KD_EXIT_USAGE;
			}
			runs = (unsigned)u;
			break;
		case OPT_OUT:
			o.out_dir = optarg;
			break;
		case OPT_PARAM:
			if (!strchr(optarg, '=')) {
				fprintf(stderr, "kdrill run: --param %s: expected NAME=VALUE\n",
					optarg);
				return KD_EXIT_USAGE;
			}
			if (strv_extend(&params, optarg) < 0)
				return KD_EXIT_INFRA;
			break;
		case OPT_STOP_ON:
			if (!strcmp(optarg, "first"))
				o.stop_on = SC_STOP_FIRST;
			else if (!strcmp(optarg, "never"))
				o.stop_on = SC_STOP_NEVER;
			else {
				fprintf(stderr,
					"kdrill run: --stop-on: '%s' must be first or never\n",
					optarg);
				return KD_EXIT_USAGE;
			}
			break;
		case OPT_SEED:
			if (parse_u64(optarg, &o.seed) < 0) {
				fprintf(stderr, "kdrill run: --rand-seed: '%s' is not a number\n",
					optarg);
				return KD_EXIT_USAGE;
			}
			break;
		case OPT_BACKEND:
			vo.cg_backend = optarg;
			if (kdcg_backend_from_string(optarg, &o.cg_backend) < 0) {
				fprintf(stderr,
					"kdrill run: --cgroup-backend: '%s' (auto systemd v2 v1)\n",
					optarg);
				return KD_EXIT_USAGE;
			}
			break;
		case OPT_QUIET:
			quiet = true;
			break;
		case OPT_JSON:
			json = true;
			break;
		case OPT_REPLAY_CONSOLE:
			o.replay_console = optarg;
			break;
		case OPT_REPLAY_KMSG:
			o.replay_kmsg = optarg;
			break;
		case OPT_NO_KMSG:
			o.no_kmsg = true;
			break;
		case OPT_BINDIR:
			o.bindir = optarg;
			break;
		case OPT_VMCORE:
			vo.vmcore = true;
			break;
		case OPT_SIGNATURE_ONLY:
			signature_only = true;
			break;
		case OPT_BOOT_TIMEOUT:
			if (parse_seconds_range(optarg, 1, 86400, &vo.boot_timeout) < 0) {
				fprintf(
				    stderr,
				    "kdrill run: --boot-timeout: '%s' is not a duration from 1s "
				    "to 1 day\n",
				    optarg);
				return KD_EXIT_USAGE;
			}
			break;
		case 'h':
			run_usage(stdout);
			return KD_EXIT_OK;
		default:
			run_usage(stderr);
			return KD_EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "kdrill run: no scenario given (see 'kdrill list')\n");
		return KD_EXIT_USAGE;
	}
	if (o.host == !!kernel) {
		fprintf(stderr, "kdrill run: give exactly one of --host (with --scratch DIR) or "
				"--kernel REF\n");
		return KD_EXIT_USAGE;
	}
	if (o.dut && !o.host) {
		fprintf(stderr, "kdrill run: --dut goes with --host (the device's own kernel)\n");
		return KD_EXIT_USAGE;
	}
	if (o.host && !o.scratch) {
		fprintf(stderr, "kdrill run: --host needs --scratch DIR (loop images go there)\n");
		return KD_EXIT_USAGE;
	}
	if (kernel) {
		_cleanup_free_ char *err = NULL;
		if (kd_kernel_ref_check(kernel, &err) < 0) {
			fprintf(stderr, "kdrill run: --kernel: %s\n", err ? err : kernel);
			return KD_EXIT_USAGE;
		}
	}
	if (o.scratch) {
		/* the reproducers get --dir under it from their own working directory */
		if (!*o.scratch || !(scratch_abs = path_absolute(o.scratch)))
			return usage_dir("--scratch", o.scratch, NULL);
		if (path_is_system_dir(scratch_abs))
			return usage_dir("--scratch", o.scratch,
					 "a system directory: give a directory of its own");
		o.scratch = scratch_abs;
		if (check_dir("--scratch", o.scratch) < 0)
			return KD_EXIT_USAGE;
	}
	if (o.out_dir && !*o.out_dir)
		return usage_dir("--out", o.out_dir, NULL);
	if (check_dir("--out", o.out_dir ? o.out_dir : results_default_dir()) < 0)
		return KD_EXIT_USAGE;
	o.ui = quiet ? RUN_UI_QUIET : isatty(STDERR_FILENO) ? RUN_UI_TTY : RUN_UI_PLAIN;

	/* expand NAME:all, then load and validate everything before running anything */
	for (int i = optind; i < argc; i++) {
		size_t l = strlen(argv[i]);
		if (l > 4 && (!strcmp(argv[i] + l - 4, ":all") || !strcmp(argv[i] + l - 2, ":*"))) {
			_cleanup_free_ char *base =
			    strndup(argv[i], strrchr(argv[i], ':') - argv[i]);
			_cleanup_strv_ char **vars = NULL;
			_cleanup_free_ char *err = NULL;
			if (!base)
				return KD_EXIT_INFRA;
			if (scenario_variants(base, &vars, &err) < 0) {
				fprintf(stderr, "kdrill run: %s\n", err ? err : argv[i]);
				return KD_EXIT_USAGE;
			}
			if (!vars && strv_extend(&targets, base) < 0)
				return KD_EXIT_INFRA;
			STRV_FOREACH (v, vars) {
				char *t = strdupf("%s:%s", base, *v);
				if (!t || strv_push(&targets, t) < 0)
					return KD_EXIT_INFRA;
			}
		} else if (strv_extend(&targets, argv[i]) < 0)
			return KD_EXIT_INFRA;
	}
	scs = calloc(strv_length(targets), sizeof(*scs));
	tallies = calloc(strv_length(targets), sizeof(*tallies));
	if (!scs || !tallies)
		return KD_EXIT_INFRA;
	STRV_FOREACH (t, targets) {
		_cleanup_free_ char *err = NULL;
		struct scenario *sc = NULL;
		int r = scenario_load(*t, params, &sc, &err);
		if (r < 0) {
			fprintf(stderr, "kdrill run: %s\n", err ? err : strerror(-r));
			rc = r == -ENOMEM ? KD_EXIT_INFRA : KD_EXIT_USAGE;
			goto out;
		}
		scs[n_scs++] = sc;
		if (o.host && (!sc->host_ok || (sc->host_destructive && !o.dut))) {
			fprintf(stderr, "kdrill run: %s: host mode refuses it: %s\n", sc->name,
				sc->host_refusal ? sc->host_refusal : SC_DESTRUCTIVE_REFUSAL);
			rc = KD_EXIT_USAGE;
			goto out;
		}
		if (check_programs(sc, kernel ? kd_guest_bindir() : o.bindir) < 0) {
			rc = KD_EXIT_USAGE;
			goto out;
		}
	}
	if (kernel) {
		/* VM mode: everything the guest needs before the first boot (exit 125 when
		 * the kernel or the image is unusable) */
		_cleanup_free_ char *err = NULL;
		int r = kd_kernel_resolve(kernel, KD_KERNEL_FETCH, &kern, &err);
		if (r >= 0)
			r = kd_image_root(true, &root, &err);
		if (r >= 0)
			r = kd_kernel_initrd(kern, &initrd, &err);
		if (r >= 0)
			r = kd_kernel_modules_img(kern, &mods, &err);
		if (r < 0) {
			fprintf(stderr, "kdrill run: --kernel %s: %s\n", kernel,
				err ? err : strerror(-r));
			/* a kernel that was never built here is the caller's mistake */
			rc = r == -ENOPKG ? KD_EXIT_USAGE : KD_EXIT_INFRA;
			goto out;
		}
		vo.kernel = kern;
		vo.root_img = root;
		vo.initrd = initrd;
		vo.modules_img = mods;
		vo.params = params;
		vo.duration = o.duration;
		vo.stop_on = o.stop_on;
		vo.seed = o.seed;
		vo.out_dir = o.out_dir;
		vo.quiet = quiet;
	}
	if (o.host && geteuid() != 0) {
		fprintf(stderr,
			"kdrill run: host mode needs root (loop devices, mounts, cgroups)\n");
		rc = KD_EXIT_INFRA;
		goto out;
	}

	for (size_t i = 0; i < n_scs && !interrupted; i++) {
		struct tally *t = &tallies[i];
		_cleanup_free_ char *missing = NULL;
		t->label = scs[i]->variant ? strdupf("%s.%s", scs[i]->name, scs[i]->variant)
					   : strdup(scs[i]->name);
		/* a kernel without what the scenario needs cannot test it: 125 (git bisect
		 * skip), said before booting */
		if (kern && kernel_lacks(kern, scs[i], &missing)) {
			fprintf(stderr,
				"kdrill run: %s: cannot test on %s: the kernel lacks%s "
				"(needs_config; kdrill kernel show %s)\n",
				t->label, kernel, missing, kernel);
			any_infra = true;
			continue;
		}
		for (unsigned k = 0; k < runs && !interrupted; k++) {
			struct run_result res;
			int r = kernel ? vm_run_scenario(scs[i], &vo, &res)
				       : runner_run(scs[i], &o, &res);
			if (r < 0) {
				fprintf(stderr, "kdrill run: %s: %s\n", t->label,
					res.reason ? res.reason : strerror(-r));
				any_infra = true;
				run_result_done(&res);
				continue;
			}
			t->runs++;
			t->n[res.verdict]++;
			t->matched += res.match;
			if (res.exit_code == KD_EXIT_BAD)
				any_bad = true;
			else if (res.exit_code == KD_EXIT_INFRA)
				any_infra = true;
			interrupted = res.interrupted;
			any_match |= res.match;
			if (json)
				printf("%s\n", json_object_to_json_string_ext(
						   res.json, JSON_C_TO_STRING_PLAIN |
								 JSON_C_TO_STRING_NOSLASHESCAPE));
			if (!quiet)
				fprintf(stderr, "%-8s %s%s  %s\n         %s\n",
					verdict_name(res.verdict), t->label,
					res.match ? " (signature match)"
					: res.verdict == V_BUG || res.verdict == V_HANG ||
						res.verdict == V_WARN
					    ? " (not the scenario's signature)"
					    : "",
					res.reason ? res.reason : "", res.run_dir);
			fflush(stdout);
			run_result_done(&res);
			if (signature_only && any_match) /* the step is decided: bad */
				break;
		}
		if (signature_only && any_match)
			break;
	}
	if (runs > 1 && !quiet)
		for (size_t i = 0; i < n_scs; i++) {
			struct tally *t = &tallies[i];
			unsigned bad = t->n[V_BUG] + t->n[V_HANG] + t->n[V_WARN] + t->n[V_ANOMALY];
			if (!t->runs)
				continue;
			fprintf(stderr, "%s: %u/%u runs failed (%.0f%%):", t->label, bad, t->runs,
				100.0 * bad / t->runs);
			for (int v = 0; v < _V_MAX; v++)
				if (t->n[v])
					fprintf(stderr, " %s %u", verdict_name((enum verdict)v),
						t->n[v]);
			fprintf(stderr, "; signature matched %u\n", t->matched);
		}
	if (signature_only) /* the scenario's bug, or clean, or cannot tell */
		rc = any_match ? KD_EXIT_BAD : any_bad || any_infra ? KD_EXIT_INFRA : KD_EXIT_OK;
	else
		rc = any_bad ? KD_EXIT_BAD : any_infra ? KD_EXIT_INFRA : KD_EXIT_OK;
out:
	for (size_t i = 0; i < n_scs; i++)
		scenario_free(scs[i]);
	free(scs);
	for (size_t i = 0; tallies && i < strv_length(targets); i++)
		free(tallies[i].label);
	free(tallies);
	return rc;
}

/* ---- list ------------------------------------------------------------------------ */

static struct json_object *strv_json(char **v)
{
	struct json_object *a = json_object_new_array();
	STRV_FOREACH (s, v)
		json_object_array_add(a, json_object_new_string(*s));
	return a;
}

/* One scenario as kdrill list --json shows it: the registry keys and the parameters. */
static struct json_object *scenario_json(const struct scenario *sc)
{
	struct json_object *o = json_object_new_object(), *vars = json_object_new_array();
	struct json_object *params = json_object_new_array();

	for (size_t i = 0; i < sc->n_variants; i++) {
		struct json_object *v = json_object_new_object();
		json_object_object_add(v, "name", json_object_new_string(sc->variants[i].name));
		json_object_object_add(v, "description",
				       sc->variants[i].description
					   ? json_object_new_string(sc->variants[i].description)
					   : NULL);
		json_object_array_add(vars, v);
	}
	for (size_t i = 0; i < sc->n_params; i++) {
		struct json_object *v = json_object_new_object();
		json_object_object_add(v, "name", json_object_new_string(sc->params[i].name));
		json_object_object_add(v, "default", json_object_new_string(sc->params[i].def));
		json_object_object_add(v, "description",
				       sc->params[i].description
					   ? json_object_new_string(sc->params[i].description)
					   : NULL);
		json_object_array_add(params, v);
	}
	json_object_object_add(o, "name", json_object_new_string(sc->name));
	json_object_object_add(o, "file", json_object_new_string(sc->path));
	json_object_object_add(o, "description",
			       sc->description ? json_object_new_string(sc->description) : NULL);
	json_object_object_add(o, "seed_report", sc->seed ? json_object_new_string(sc->seed) : NULL);
	json_object_object_add(o, "expect", sc->expect ? json_object_new_string(sc->expect) : NULL);
	json_object_object_add(o, "fixed_by", strv_json(sc->fixed_by));
	json_object_object_add(o, "needs_config", strv_json(sc->needs_config));
	json_object_object_add(o, "seed_fixture",
			       sc->seed_fixture ? json_object_new_string(sc->seed_fixture) : NULL);
	json_object_object_add(o, "host_ok", json_object_new_boolean(sc->host_ok));
	json_object_object_add(o, "duration_s", json_object_new_double(scenario_duration(sc, 0)));
	json_object_object_add(o, "variants", vars);
	json_object_object_add(o, "params", params);
	return o;
}

int cmd_list(int argc, char **argv)
{
	_cleanup_strv_ char **files = NULL;
	struct json_object *all = NULL;
	bool verbose = false, json = false;
	int rc = KD_EXIT_OK;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-v") || !strcmp(argv[i], "--verbose"))
			verbose = true;
		else if (!strcmp(argv[i], "--json"))
			json = true;
		else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			printf("usage: kdrill list [-v] [--json]\n  scenarios, their variants and "
			       "parameters (-v: descriptions of each parameter; --json: one array with "
			       "every scenario's registry keys)\n");
			return KD_EXIT_OK;
		} else {
			fprintf(stderr, "kdrill list: unknown argument '%s'\n", argv[i]);
			return KD_EXIT_USAGE;
		}
	}
	if (scenario_list_files(&files) < 0 || !files) {
		fprintf(stderr, "kdrill list: no scenario files found under %s/harness/scenarios\n",
			kd_datadir());
		return KD_EXIT_INFRA;
	}
	if (json && !(all = json_object_new_array()))
		return KD_EXIT_INFRA;
	STRV_FOREACH (f, files) {
		_cleanup_(scenario_freep) struct scenario *sc = NULL;
		_cleanup_free_ char *err = NULL;
		if (scenario_load(*f, NULL, &sc, &err) < 0) {
			if (json)
				fprintf(stderr, "kdrill list: %s\n", err ? err : *f);
			else
				printf("%-16s (invalid: %s)\n", strrchr(*f, '/') + 1, err ? err : "?");
			rc = KD_EXIT_USAGE;
			continue;
		}
		if (json) {
			json_object_array_add(all, scenario_json(sc));
			continue;
		}
		printf("%-16s %s%s\n", sc->name, sc->description ? sc->description : "",
		       !sc->host_ok ? " [VM only]" : sc->host_destructive ? " [VM, or --host --dut]" : "");
		if (sc->n_variants) {
			printf("%16s variants:", "");
			for (size_t i = 0; i < sc->n_variants; i++)
				printf(" %s%s", sc->variants[i].name, i == 0 ? " (default)" : "");
			printf("\n");
			if (verbose)
				for (size_t i = 0; i < sc->n_variants; i++)
					printf("%18s%s: %s\n", "", sc->variants[i].name,
					       sc->variants[i].description
						   ? sc->variants[i].description
						   : "");
		}
		if (sc->n_params) {
			printf("%16s params:", "");
			for (size_t i = 0; i < sc->n_params; i++)
				printf(" %s=%s", sc->params[i].name, sc->params[i].def);
			printf("\n");
			if (verbose)
				for (size_t i = 0; i < sc->n_params; i++)
					printf("%18s%s: %s\n", "", sc->params[i].name,
					       sc->params[i].description ? sc->params[i].description
									 : "");
		}
	}
	if (json) {
		printf("%s\n", json_object_to_json_string_ext(all, JSON_C_TO_STRING_PRETTY |
									JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(all);
	}
	return rc;
}

/* ---- show ------------------------------------------------------------------------ */

/* verdict.json is data from a run directory, not from kdrill necessarily: its strings are
 * printed with control characters (terminal escapes included) and invalid UTF-8 shown as
 * \xNN, C1 controls as \u00NN.  keep_nl: '\n' and '\t' pass (multi-line excerpts). */
static void put_safe(FILE *f, const char *s, bool keep_nl)
{
	const unsigned char *p = (const unsigned char *)s;

	while (p && *p) {
		unsigned char c = *p;
		size_t n = c < 0x80		? 1
			   : (c & 0xe0) == 0xc0 ? 2
			   : (c & 0xf0) == 0xe0 ? 3
			   : (c & 0xf8) == 0xf0 ? 4
						: 0;
		bool ok = n > 0;
		for (size_t i = 1; ok && i < n; i++)
			ok = (p[i] & 0xc0) == 0x80;
		if (ok && n == 2 && c < 0xc2)
			ok = false; /* overlong */
		if (!ok) {
			fprintf(f, "\\x%02x", c);
			p++;
		} else if (n == 1 && (c < 0x20 || c == 0x7f) &&
			   !(keep_nl && (c == '\n' || c == '\t'))) {
			fprintf(f, "\\x%02x", c);
			p++;
		} else if (n == 2 && c == 0xc2 && p[1] < 0xa0) {
			fprintf(f, "\\u%04x", p[1]); /* C1 control: U+0080..U+009F */
			p += 2;
		} else {
			fwrite(p, 1, n, f);
			p += n;
		}
	}
}

/* A string field of o (numbers and booleans as text), NULL when absent/null/an object. */
static const char *js(struct json_object *o, const char *k)
{
	struct json_object *v;
	if (!o || !json_object_is_type(o, json_type_object) ||
	    !json_object_object_get_ex(o, k, &v) || json_object_is_type(v, json_type_null) ||
	    json_object_is_type(v, json_type_object) || json_object_is_type(v, json_type_array))
		return NULL;
	return json_object_get_string(v);
}

/* One "label     value" line, the value escaped. */
static void line(const char *label, const char *value)
{
	printf("%-10s", label);
	put_safe(stdout, value ? value : "?", false);
	putchar('\n');
}

static struct json_object *jtyped(struct json_object *o, const char *k, enum json_type t,
				  const char *what)
{
	struct json_object *x;
	if (!json_object_object_get_ex(o, k, &x) || json_object_is_type(x, json_type_null))
		return NULL;
	if (!json_object_is_type(x, t)) {
		fprintf(stderr,
			"kdrill show: verdict.json: \"%s\" is a JSON %s, not %s (ignored)\n", k,
			json_type_to_name(json_object_get_type(x)), what);
		return NULL;
	}
	return x;
}

/* The first failure's console excerpt, without the unreliable "? func" frames (counted). */
static void print_excerpt(const char *e, int max_lines)
{
	int lines = 0, hidden = 0;

	printf("    ----\n");
	while (*e && lines < max_lines) {
		const char *nl = strchr(e, '\n'), *t = e;
		size_t len = nl ? (size_t)(nl - e) : strlen(e);
		while (t < e + len && (*t == ' ' || *t == '\t'))
			t++;
		if (t + 1 < e + len && t[0] == '?' && t[1] == ' ')
			hidden++;
		else {
			_cleanup_free_ char *l = strndup(e, len);
			printf("    ");
			put_safe(stdout, l, false);
			putchar('\n');
			lines++;
		}
		e += len + (nl ? 1 : 0);
	}
	if (*e)
		printf("    ...\n");
	if (hidden)
		printf("    (%d unreliable '?' frames not shown; console.log has them)\n", hidden);
	printf("    ----\n");
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* What is really in the run directory (a VM hang has the guest's files only when the
 * agent could collect them), with sizes. */
static void print_files(const char *dir)
{
	_cleanup_strv_ char **names = NULL;
	DIR *d = opendir(dir);
	struct dirent *de;
	size_t n, col = 10;

	printf("files     ");
	put_safe(stdout, dir, false);
	printf("/\n");
	if (!d)
		return;
	while ((de = readdir(d)))
		if (de->d_name[0] != '.' && strv_extend(&names, de->d_name) < 0)
			break;
	closedir(d);
	n = strv_length(names);
	if (n)
		qsort(names, n, sizeof(*names), cmp_str);
	printf("          ");
	for (size_t i = 0; i < n; i++) {
		_cleanup_free_ char *p = strdupf("%s/%s", dir, names[i]);
		struct stat st;
		char sz[32] = "";
		int w;
		if (p && lstat(p, &st) == 0)
			fmt_size((uint64_t)st.st_size, sz, sizeof(sz));
		w = (int)(strlen(names[i]) + strlen(sz) + 4);
		if (col + (size_t)w > 100) {
			printf("\n          ");
			col = 10;
		}
		put_safe(stdout, names[i], false);
		printf(" (%s)  ", sz);
		col += (size_t)w;
	}
	printf("\n");
}

/* The crash command line for a run's vmcore.  FETCH: download the -dbg vmlinux of a
 * debian: kernel and make the crash vmlinux when missing (kdrill show --crash); without it
 * only what is already cached is used.  Returns 0 and the line, -ENOENT (nothing to say
 * without fetching), -ENODATA (no vmcore) or another error, with a message. */
static int crash_line(const char *dir, struct json_object *v, bool fetch, char **ret, char **err)
{
	_cleanup_(kd_kernel_freep) struct kd_kernel *k = NULL;
	_cleanup_free_ char *vmcore = strdupf("%s/vmcore.kdump", dir), *vmlinux = NULL;
	struct json_object *kern;
	const char *ref = NULL;
	unsigned flags = 0;
	char abs[PATH_MAX];
	int r;

	if (!vmcore)
		return -ENOMEM;
	if (access(vmcore, R_OK) < 0) {
		*err = strdupf("%s: no vmcore in this run (kdrill run --vmcore dumps the guest's "
			       "memory on a hang or panic)",
			       dir);
		return -ENODATA;
	}
	if (json_object_object_get_ex(v, "kernel", &kern))
		ref = js(kern, "ref");
	if (!ref) {
		*err = strdupf("%s: verdict.json names no kernel ref", dir);
		return -EINVAL;
	}
	if (fetch)
		flags = KD_KERNEL_FETCH;
	r = kd_kernel_resolve(ref, flags, &k, err);
	if (r < 0)
		return r;
	if (fetch && startswith(ref, "debian:") && !k->vmlinux) {
		fprintf(stderr,
			"kdrill show: fetching the vmlinux of %s from its -dbg package (a ~280 MB "
			"download, once; cached)\n",
			ref);
		kd_kernel_free(TAKE_PTR(k));
		r = kd_kernel_resolve(ref, flags | KD_KERNEL_DEBUGINFO, &k, err);
		if (r < 0)
			return r;
	}
	if (!fetch) {
		_cleanup_free_ char *p = strdupf("%s/vmlinux-crash", k->dir);
		if (!p || access(p, R_OK) < 0)
			return -ENOENT;
	}
	r = kd_vmcore_crash_vmlinux(k, &vmlinux, err);
	if (r < 0)
		return r;
	/* a HANG's dump is of a live kernel; anything else may hold a panic */
	*ret = kd_vmcore_crash_cmdline(vmlinux, realpath(vmcore, abs) ? abs : vmcore,
				       !js(v, "verdict") || strcmp(js(v, "verdict"), "HANG") != 0);
	return *ret ? 0 : -ENOMEM;
}

static const char *const workflow_files[] = {"validate", "bisect"};

int cmd_show(int argc, char **argv)
{
	const char *out = results_default_dir(), *id = NULL;
	bool json = false, crash = false;
	_cleanup_free_ char *dir = NULL, *err = NULL, *l1 = NULL;
	struct json_object *v = NULL, *x;
	int r;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--out") && i + 1 < argc)
			out = argv[++i];
		else if (!strcmp(argv[i], "--json"))
			json = true;
		else if (!strcmp(argv[i], "--crash"))
			crash = true;
		else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			printf("usage: kdrill show [--out DIR] [--json | --crash] "
			       "RUN-ID|last|validate-ID|bisect-ID\n"
			       "  --crash   print the crash command line for the run's vmcore\n"
			       "            (gets the kernel's debug vmlinux first: a debian: "
			       "kernel's\n"
			       "            -dbg package is downloaded once)\n");
			return KD_EXIT_OK;
		} else if (argv[i][0] == '-' && argv[i][1]) {
			fprintf(stderr, "kdrill show: unknown option '%s'\n", argv[i]);
			return KD_EXIT_USAGE;
		} else
			id = argv[i];
	}
	if (!id) {
		fprintf(stderr, "usage: kdrill show [--out DIR] [--json | --crash] "
				"RUN-ID|last|validate-ID|bisect-ID\n");
		return KD_EXIT_USAGE;
	}
	r = results_find(out, id, &dir);
	if (r < 0) {
		fprintf(stderr, "kdrill show: %s: %s\n", id,
			r == -EEXIST   ? "ambiguous, give more of the run id"
			: r == -ENOENT ? "no such run"
				       : strerror(-r));
		return KD_EXIT_USAGE;
	}
	/* a workflow directory (validate-<id>, bisect-<id>): its summary or its JSON */
	for (size_t k = 0; k < ELEMENTSOF(workflow_files); k++) {
		_cleanup_free_ char *jp = strdupf("%s/%s.json", dir, workflow_files[k]);
		_cleanup_free_ char *mp = strdupf("%s/%s.md", dir, workflow_files[k]);
		_cleanup_free_ char *text = NULL;
		if (!jp || !mp)
			return KD_EXIT_INFRA;
		if (access(jp, F_OK) < 0)
			continue;
		/* regular files only (a FIFO would block), printed with escapes made visible */
		r = read_regular_file(json ? jp : mp, 64u << 20, &text, NULL);
		if (r < 0) {
			fprintf(stderr, "kdrill show: %s: %s\n", json ? jp : mp,
				r == -EINVAL ? "not a regular file" : strerror(-r));
			return KD_EXIT_INFRA;
		}
		put_safe(stdout, text, true);
		return KD_EXIT_OK;
	}
	r = results_load_msg(dir, &v, &err);
	if (r < 0) {
		fprintf(stderr, "kdrill show: ");
		if (err)
			put_safe(stderr, err, false);
		else
			fprintf(stderr, "%s/verdict.json: %s", dir, strerror(-r));
		fputc('\n', stderr);
		return KD_EXIT_INFRA;
	}
	if (crash) {
		_cleanup_free_ char *line = NULL, *cerr = NULL;
		r = crash_line(dir, v, true, &line, &cerr);
		json_object_put(v);
		if (r < 0) {
			fprintf(stderr, "kdrill show: %s\n", cerr ? cerr : strerror(-r));
			return r == -ENODATA ? KD_EXIT_USAGE : KD_EXIT_INFRA;
		}
		printf("%s\n", line);
		return KD_EXIT_OK;
	}
	if (json) {
		printf("%s\n", json_object_to_json_string_ext(
				   v, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(v);
		return KD_EXIT_OK;
	}
	line("run", js(v, "run_id"));
	l1 = strdupf("%s%s%s  (%s mode)", js(v, "scenario") ? js(v, "scenario") : "?",
		     js(v, "variant") ? ":" : "", js(v, "variant") ? js(v, "variant") : "",
		     js(v, "mode") ? js(v, "mode") : "?");
	line("scenario", l1);
	if ((x = jtyped(v, "kernel", json_type_object, "an object")))
		line("kernel", js(x, "release"));
	free(l1);
	l1 = strdupf("%s%s  (exit %s)", js(v, "verdict") ? js(v, "verdict") : "?",
		     json_object_object_get_ex(v, "match", &x) && json_object_get_boolean(x)
			 ? ", signature match"
			 : "",
		     js(v, "exit_code") ? js(v, "exit_code") : "?");
	line("verdict", l1);
	line("reason", js(v, "reason") ? js(v, "reason") : "");
	free(l1);
	l1 = strdupf("%s, %ss", js(v, "started") ? js(v, "started") : "?",
		     js(v, "duration_s") ? js(v, "duration_s") : "?");
	line("started", l1);
	if ((x = jtyped(v, "counters", json_type_object, "an object")))
		line("counters", json_object_to_json_string_ext(x, JSON_C_TO_STRING_PLAIN));
	if ((x = jtyped(v, "params", json_type_object, "an object")) &&
	    json_object_object_length(x))
		line("params", json_object_to_json_string_ext(x, JSON_C_TO_STRING_PLAIN));
	if ((x = jtyped(v, "reports", json_type_array, "an array"))) {
		struct json_object *reports = x;
		size_t n = json_object_array_length(reports);
		bool excerpt_done = false;
		printf("reports   %zu\n", n);
		for (size_t i = 0; i < n; i++) {
			struct json_object *rep = json_object_array_get_idx(reports, i), *m;
			const char *role = js(rep, "role");
			if (!json_object_is_type(rep, json_type_object)) {
				printf("  [?] (report %zu is not a JSON object)\n", i);
				continue;
			}
			printf("  [");
			put_safe(stdout, role ? role : "?", false);
			printf("] ");
			put_safe(stdout, js(rep, "title") ? js(rep, "title") : "?", false);
			printf("%s\n", json_object_object_get_ex(rep, "signature_match", &m) &&
					       json_object_get_boolean(m)
					   ? "  (signature)"
					   : "");
			if (!excerpt_done && role && !strcmp(role, "failure") &&
			    js(rep, "excerpt")) {
				print_excerpt(js(rep, "excerpt"), 25);
				excerpt_done = true;
			}
		}
	}
	if (js(v, "hang_summary") && *js(v, "hang_summary")) {
		const char *h = js(v, "hang_summary");
		printf("blocked   ");
		for (; *h; h++) {
			const char *nl = strchr(h, '\n');
			_cleanup_free_ char *l = strndup(h, nl ? (size_t)(nl - h) : strlen(h));
			put_safe(stdout, l, false);
			putchar('\n');
			if (!nl || !nl[1])
				break;
			fputs("          ", stdout);
			h = nl;
		}
	}
	print_files(dir);
	{
		_cleanup_free_ char *line = NULL, *cerr = NULL;
		r = crash_line(dir, v, false, &line, &cerr);
		if (r == 0)
			printf("crash     %s\n", line);
		else if (r != -ENODATA) /* not cached yet (or not to be had: --crash says why) */
			printf("crash     kdrill show%s%s --crash %s  (fetches the kernel's debug "
			       "vmlinux)\n",
			       strcmp(out, results_default_dir()) ? " --out " : "",
			       strcmp(out, results_default_dir()) ? out : "",
			       js(v, "run_id") ? js(v, "run_id") : id);
	}
	json_object_put(v);
	return KD_EXIT_OK;
}
