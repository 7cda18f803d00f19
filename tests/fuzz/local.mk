# tests/fuzz: libFuzzer harnesses (clang), run by tests/fuzz/run.sh from .ci, not by make check:
#   tests/fuzz/run.sh BUILD_TMPDIR [SECONDS_EACH]   (0: replay corpora and regression inputs only)
# Only shipped in the tarball here.
EXTRA_DIST += fuzz
