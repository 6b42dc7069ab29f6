// SPDX-License-Identifier: GPL-2.0
/* The repeat-engine options of validate and bisect (repeat-opts.h). */
#include "repeat-opts.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "util.h"

#define COUNT_MAX 100000

int repeat_opt_count(const char *cmd, const char *name, const char *arg, unsigned *ret)
{
	uint64_t u;

	if (parse_u64(arg, &u) < 0 || u < 1 || u > COUNT_MAX) {
		fprintf(stderr, "kdrill %s: --%s: '%s' must be 1..%u\n", cmd, name, arg, COUNT_MAX);
		return KD_EXIT_USAGE;
	}
	*ret = (unsigned)u;
	return 0;
}

int repeat_opt_seconds(const char *cmd, const char *name, const char *arg, double *ret)
{
	if (parse_seconds_range(arg, KD_DURATION_MIN, KD_DURATION_MAX, ret) < 0) {
		fprintf(stderr, "kdrill %s: --%s: '%s' is not a duration from 1s to 30 days\n", cmd,
			name, arg);
		return KD_EXIT_USAGE;
	}
	return 0;
}

int repeat_opt_parse(const struct repeat_opts *o, int c, const char *arg)
{
	double d;
	char *end;

	switch (c) {
	case REPEAT_OPT_CONFIDENCE:
		d = strtod(arg, &end);
		if (*end || !(d >= 0.5 && d <= 0.999)) { /* NaN too */
			fprintf(stderr, "kdrill %s: --confidence: '%s' must be 0.5..0.999\n",
				o->cmd, arg);
			return KD_EXIT_USAGE;
		}
		*o->confidence = d;
		return 0;
	case REPEAT_OPT_CALIBRATE:
		return repeat_opt_count(o->cmd, "calibrate-matches", arg, o->calibrate_matches);
	case REPEAT_OPT_DURATION:
		return repeat_opt_seconds(o->cmd, "duration", arg, o->duration);
	case REPEAT_OPT_PARAM:
		if (!strchr(arg, '=')) {
			fprintf(stderr, "kdrill %s: --param %s: expected NAME=VALUE\n", o->cmd,
				arg);
			return KD_EXIT_USAGE;
		}
		return strv_extend(o->params, arg) < 0 ? KD_EXIT_INFRA : 0;
	case REPEAT_OPT_BOOT_TIMEOUT:
		if (parse_seconds_range(arg, 1, 86400, &d) < 0) {
			fprintf(stderr,
				"kdrill %s: --boot-timeout: '%s' is not a duration from 1s to 1 "
				"day\n",
				o->cmd, arg);
			return KD_EXIT_USAGE;
		}
		if (strv_extend(o->run_args, "--boot-timeout") < 0 ||
		    strv_extend(o->run_args, arg) < 0)
			return KD_EXIT_INFRA;
		return 0;
	case REPEAT_OPT_OUT:
		*o->out = arg;
		return 0;
	case REPEAT_OPT_QUIET:
		*o->quiet = true;
		return 0;
	}
	fprintf(stderr, "kdrill %s: internal error: option %d is not a repeat option\n", o->cmd, c);
	return KD_EXIT_INFRA;
}
