# tests/integration: the real hugevmd and hugevmctl on the fake kernel
# (tests/fakekernel, a FUSE mount: without libfuse3, /dev/fuse or root the
# scripts skip) and a temp socket; hostile-files.sh on a tree of plain files;
# plus the real-kernel end-to-end savings test.
TESTS += \
	integration/ctl.sh integration/cli.sh \
	integration/demote.sh \
	integration/protocol.sh \
	integration/auth.sh \
	integration/config.sh \
	integration/restart.sh \
	integration/pernode.sh \
	integration/host.sh \
	integration/hostile.sh \
	kernel/e2e-savings.sh \
	kernel/host-real.sh
EXTRA_DIST += \
	integration/common.sh \
	integration/hv.py \
	integration/ctl.sh integration/cli.sh \
	integration/demote.sh \
	integration/protocol.sh \
	integration/auth.sh \
	integration/config.sh \
	integration/restart.sh \
	integration/pernode.sh \
	integration/host.sh \
	integration/hostile.sh \
	integration/attack.py \
	kernel/e2e-savings.sh \
	kernel/host-real.sh
TESTS += integration/hostile-files.sh
TESTS += integration/groups.sh
EXTRA_DIST += integration/groups.sh
EXTRA_DIST += integration/hostile-files.sh
TESTS += integration/coverage.sh kernel/mount-options.sh
EXTRA_DIST += integration/coverage.sh integration/notify.py kernel/mount-options.sh
TESTS += integration/declared.sh
TESTS += integration/forecast.sh
EXTRA_DIST += integration/declared.sh
EXTRA_DIST += integration/forecast.sh
TESTS += integration/bootplan.sh
EXTRA_DIST += integration/bootplan.sh
TESTS += integration/features.sh
EXTRA_DIST += integration/features.sh
TESTS += integration/completion.sh
EXTRA_DIST += integration/completion.sh
