/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Scenario files (INI, docs/scenarios.md): what to run, where, for how long, and
 * which kernel report counts as "the bug".  Parsing only: no execution here.
 *
 * Values may use ${param} (expanded at load time) and the run-time variables
 * ${dir} ${mnt} ${duration} ${instance} ${seed} ${slice} ${engine} ${bindir}
 * ${run_dir} (kept verbatim here, expanded by the runner with scenario_expand_runtime()).
 */
#ifndef KDRILL_SCENARIO_H
#define KDRILL_SCENARIO_H

#include <regex.h>
#include <stdbool.h>
#include <stdint.h>

#include "kdcg.h"

enum sc_stop_on { SC_STOP_FIRST, SC_STOP_NEVER };
enum sc_kind { SC_REPRO, SC_LOAD };
/* What a non-zero exit of a load means (reproducers always map 1 -> ANOMALY, 2/3 -> INFRA). */
enum sc_on_fail { SC_FAIL_INFRA, SC_FAIL_ANOMALY, SC_FAIL_IGNORE };
enum sc_action_op { SC_ACT_DM_SUSPEND, SC_ACT_SYSRQ, SC_ACT_DROP_CACHES, SC_ACT_NFS_SERVER_STOP };

struct sc_param {
	char *name;
	char *def;	   /* default from the file */
	char *value;	   /* after variant and --param overrides */
	char *description; /* may be NULL */
	bool overridden;
	unsigned line;
};

struct sc_variant {
	char *name;
	char *description;
	char **sets; /* "param=value" strv */
	unsigned line;
};

struct sc_fs {
	char *name;
	char *type;	  /* ext2 ext3 ext4 xfs nfs */
	char **mkfs_opts; /* extra mkfs arguments (split on spaces) */
	char *mount_opts; /* -o string, may be NULL */
	uint64_t size;	  /* bytes (host loop image / minimum disk size) */
	char *server;	  /* nfs: name of the [fs.X] it exports (loopback server) */
	char *dm;	  /* "linear": put a device-mapper target under it (VM only) */
	unsigned line, mkfs_line;
};

struct sc_slice {
	char *name;
	struct kdcg_limits limits;
	unsigned count; /* number of slices NAME-0..NAME-(count-1) */
	unsigned line;
};

struct sc_proc {
	char *name;
	enum sc_kind kind;
	char *program;	    /* repro: name under bindir; load: program looked up in PATH */
	char **args;	    /* extra arguments, each may hold run-time variables */
	char *slice;	    /* NULL: outside any slice (kdrill's own root slice) */
	char *fs;	    /* NULL: the first [fs.*] */
	unsigned instances; /* per slice (a slice with count N gets N x instances) */
	char **engines;	    /* repro: --engine values, one group of instances each; NULL: none */
	char *threads;	    /* repro: --threads, NULL: program default */
	char *size;	    /* repro: --size, NULL: program default */
	enum kdcg_restart restart;
	unsigned restart_max;
	enum sc_on_fail on_fail;
	bool stop_at_end; /* load: stopped at the duration (default); repro: exits by --duration */
	unsigned line, slice_line, fs_line, program_line;
};

struct sc_action {
	char *name;
	enum sc_action_op op;
	double at;    /* seconds after start */
	double every; /* 0: once */
	double hold;  /* dm-suspend, nfs-server-stop: seconds before resume / restart */
	char *fs;     /* dm-suspend; nfs-server-stop (optional: an [fs.X] of type nfs) */
	char *arg;    /* sysrq key, drop-caches value */
	unsigned line;
};

struct sc_pattern {
	char *src;
	regex_t re;
	unsigned line;
};

struct sc_vm {
	double hung_task_timeout; /* 0: VM default */
	double hung_task_scan;	  /* khungtaskd's interval, 0: the timeout */
	char **cmdline;		  /* extra kernel command line words */
	bool panic_on_warn, oops_panic;
	unsigned disks; /* scratch disks wanted, 0: one per non-nfs [fs] */
	unsigned cpus;
	uint64_t memory;
	unsigned line;
};

/* Limits of what a scenario file may ask for (usage errors beyond them). */
#define SC_FILE_MAX	 (1u << 20) /* bytes of a scenario file */
#define SC_INSTANCES_MAX 1024	    /* units (reproducers + loads) one run may start */
#define SC_PARAM_MAX	 1024	    /* bytes of one --param value */

struct scenario {
	char *path;
	char *name;
	char *variant; /* NULL when the file has no variants */
	char *description;
	char *seed;	/* seed report id ("000"), may be NULL */
	/* the registry: what the scenario is known for (kdrill list --json) */
	char *expect;	      /* the verdict a stock kernel gives: "PASS", "HANG"... (demo) */
	char **fixed_by;      /* "<commit> <subject>" of the seed's fix(es) */
	char **needs_config;  /* CONFIG_X options the kernel under test must have (y or m) */
	char *seed_fixture;   /* the seed's console, relative to the tree (tests/detect/fixtures) */
	double duration; /* default run length, seconds (key duration, old name timeout) */
	double grace;	/* after the duration: reproducers get this long to exit */
	double cant_die_timeout; /* SIGKILLed units still there this long: a report; 0: from
				    the kernel's hung-task timeout (task_cant_die_bound) */
	enum sc_stop_on stop_on;
	/* until: end the run early once every nonzero minimum is reached (the duration
	 * stays the bound); all 0 = run for the duration */
	struct sc_until {
		uint64_t ops, oom_kills, restarts;
	} until;
	bool host_ok;
	char *host_refusal; /* why host mode cannot run it (NULL if host_ok) */
	/* sends sysrq (crashes or stalls the kernel on purpose): host mode only with --dut,
	 * on a disposable test device such as a LAVA board */
	bool host_destructive;
#define SC_DESTRUCTIVE_REFUSAL                                                                     \
	"sends sysrq to the kernel: run it in a VM, or with --dut on a disposable test device"

	struct sc_pattern *signature; /* title regexes */
	size_t n_signature;
	struct sc_pattern *signature_frame; /* frame/stack regexes */
	size_t n_signature_frame;
	unsigned signature_classes; /* bitmask of 1u << enum kd_class */
	struct sc_pattern *allow;   /* expected noise: title regexes */
	size_t n_allow;
	unsigned allow_classes;

	struct sc_param *params;
	size_t n_params;
	struct sc_variant *variants;
	size_t n_variants;
	struct sc_fs *fs;
	size_t n_fs;
	struct sc_slice *slices;
	size_t n_slices;
	struct sc_proc *procs;
	size_t n_procs;
	struct sc_action *actions;
	size_t n_actions;
	struct sc_vm vm;
};

/* Load and validate.  name_or_path: a file path (contains '/' or ends in .ini) or a
 * scenario name looked up with scenario_find(); "NAME:VARIANT" picks a variant (the
 * default is the first one).  overrides: "k=v" strv (--param).  On error returns a
 * negative errno and *errmsg = "file:line: key: why" (caller frees); -ENOENT for an
 * unknown scenario, -EINVAL for a bad file or parameter. */
int scenario_load(const char *name_or_path, char *const *overrides, struct scenario **ret,
		  char **errmsg);
void scenario_free(struct scenario *sc);
/* The run length: the requested one (--duration, > 0) or the scenario's default. */
double scenario_duration(const struct scenario *sc, double requested);
static inline void scenario_freep(struct scenario **sc)
{
	if (*sc)
		scenario_free(*sc);
}

/* Directories searched for NAME.ini: $KDRILL_SCENARIOS (':'-separated), then
 * <datadir>/harness/scenarios. */
int scenario_find(const char *name, char **ret_path);
/* All scenario files found (sorted, first of each name wins). */
int scenario_list_files(char ***ret_paths);
/* Variant names of a scenario file without fully validating it (for "NAME:*"). */
int scenario_variants(const char *name_or_path, char ***ret, char **errmsg);

/* Expand ${var} run-time variables; vars is a "name=value" strv.  Unknown -> -EINVAL. */
int scenario_expand_runtime(const char *s, char *const *vars, char **ret);

const struct sc_slice *scenario_slice(const struct scenario *sc, const char *name);
const struct sc_fs *scenario_fs(const struct scenario *sc, const char *name);
const char *sc_kind_name(enum sc_kind k);
const char *sc_restart_name(enum kdcg_restart r);

#endif
