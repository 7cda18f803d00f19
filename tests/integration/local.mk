# tests/integration: the real hugevmd and hugevmctl on a fake root and a temp
# socket (see tests/Makefile.am); plus the real-kernel end-to-end savings test.
TESTS += \
	integration/ctl.sh \
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
	integration/ctl.sh \
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
EXTRA_DIST += integration/hostile-files.sh
TESTS += integration/coverage.sh kernel/mount-options.sh
EXTRA_DIST += integration/coverage.sh integration/notify.py kernel/mount-options.sh
