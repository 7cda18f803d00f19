# tests/systemd: the metrics and sd-daemon modules of hugevmd (compiled here
# from daemon/ sources), the unit files, and the real daemon under a notify
# socket, socket activation and a real Prometheus server.
check_PROGRAMS += systemd/test-metrics systemd/test-sdnotify
systemd_test_metrics_SOURCES = systemd/test-metrics.c ../daemon/metrics.c ../daemon/metrics.h
systemd_test_metrics_CFLAGS = $(AM_CFLAGS) -I$(top_srcdir)/daemon $(JSONC_CFLAGS) $(MHD_CFLAGS)
systemd_test_metrics_LDADD = $(top_builddir)/proto/libhugevmproto.la $(JSONC_LIBS) $(MHD_LIBS) -lpthread -lm
systemd_test_sdnotify_SOURCES = systemd/test-sdnotify.c ../daemon/sdnotify.c ../daemon/sdnotify.h
systemd_test_sdnotify_CFLAGS = $(AM_CFLAGS) -I$(top_srcdir)/daemon $(UV_CFLAGS) $(SYSTEMD_CFLAGS)
systemd_test_sdnotify_LDADD = $(UV_LIBS) $(SYSTEMD_LIBS)

TESTS += systemd/test-metrics systemd/test-sdnotify systemd/test-units.sh \
	systemd/test-notify.sh systemd/test-socket-activation.sh systemd/test-prometheus.sh \
	systemd/test-syscalls.sh systemd/test-sandbox.sh
EXTRA_DIST += systemd/test-units.sh systemd/test-notify.sh systemd/test-socket-activation.sh \
	systemd/test-prometheus.sh systemd/test-syscalls.sh systemd/test-sandbox.sh \
	systemd/daemon-env.sh systemd/notify-capture.py \
	systemd/data/status-full.json systemd/data/status-full.expect \
	systemd/data/status-untargeted.json systemd/data/status-untargeted.expect \
	systemd/data/status-empty.json systemd/data/status-empty.expect \
	systemd/data/status-hostile.json systemd/data/status-hostile.expect
