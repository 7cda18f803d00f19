# tests/daemon: see tests/Makefile.am
