# tests/kernel: see tests/Makefile.am
