# tests/integration: see tests/Makefile.am
