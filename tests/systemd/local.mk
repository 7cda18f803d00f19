# tests/systemd: the metrics and sd-daemon modules of hugevmd (linked from
# its internal library), the unit files, and the real daemon under a notify
# socket, socket activation and a real Prometheus server.
check_PROGRAMS += systemd/test-metrics systemd/test-sdnotify
systemd_test_metrics_SOURCES = systemd/test-metrics.c
systemd_test_metrics_CFLAGS = $(DAEMON_CFLAGS)
systemd_test_metrics_LDADD = $(DAEMON_LIBS)
systemd_test_sdnotify_SOURCES = systemd/test-sdnotify.c
systemd_test_sdnotify_CFLAGS = $(DAEMON_CFLAGS)
systemd_test_sdnotify_LDADD = $(DAEMON_LIBS)

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
TESTS += systemd/test-conventions.sh systemd/test-docs-config.sh
EXTRA_DIST += systemd/test-conventions.sh systemd/test-docs-config.sh ../etc/hugevmd/hugevmd.conf
TESTS += systemd/test-metrics-more.sh
EXTRA_DIST += systemd/test-metrics-more.sh
# Prometheus rules and the Grafana dashboard of contrib/ (issue 17).
TESTS += systemd/test-rules.sh
EXTRA_DIST += systemd/test-rules.sh
