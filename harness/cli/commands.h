/* SPDX-License-Identifier: GPL-2.0 */
/* kdrill subcommands.  Each lives in its own harness/cli/cmd-<name>.c and returns the
 * process exit code (0 ok; 1 bad / found; 2 usage; 125 infrastructure failure). */
#ifndef KDRILL_COMMANDS_H
#define KDRILL_COMMANDS_H

#include "verdict.h" /* KD_EXIT_* */

int cmd_scan(int argc, char **argv);   /* harness/cli/cmd-scan.c    console detector */
int cmd_trace(int argc, char **argv);  /* harness/cli/cmd-trace.c   tracepoints to stdout */
int cmd_run(int argc, char **argv);    /* harness/cli/cmd-run.c     run scenarios (host / VM) */
int cmd_list(int argc, char **argv);   /* harness/cli/cmd-run.c     list scenarios */
int cmd_show(int argc, char **argv);   /* harness/cli/cmd-run.c     show a result */
int cmd_cgroup(int argc, char **argv); /* harness/cli/cmd-cgroup.c  slices by hand (debug/tests) */
int cmd_kernel(int argc, char **argv); /* harness/cli/cmd-kernel.c  kernel list|fetch|show */
int cmd_image(int argc, char **argv);  /* harness/cli/cmd-image.c   guest image build|show */
int cmd_vm(int argc, char **argv);     /* harness/cli/cmd-vm.c      boot|probe-kvm (low level) */
int cmd_agent(int argc, char **argv);  /* harness/cli/cmd-agent.c   in-guest agent */
int cmd_demo(int argc, char **argv);
int cmd_lava(int argc, char **argv);   /* harness/cli/cmd-lava.c    LAVA jobs: job|dut|collect */   /* harness/cli/cmd-demo.c    make demo */
int cmd_validate(int argc, char **argv); /* harness/cli/cmd-validate.c  does a fix work? */
int cmd_bisect(int argc, char **argv);	 /* harness/cli/cmd-bisect.c    which kernel broke it */
int cmd_matrix(int argc, char **argv);	 /* harness/cli/cmd-matrix.c    nightly matrix of a plan */
int cmd_merge(int argc, char **argv);	 /* harness/cli/cmd-matrix.c    combine matrix stores */
int cmd_report(int argc, char **argv);	 /* harness/cli/cmd-matrix.c    a night's report */

#endif
