# tests/systemd: see tests/Makefile.am
