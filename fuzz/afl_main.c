/*
 * fuzz/afl_main.c - the driver for everything that is not libFuzzer.
 *
 * Built with afl-clang-fast (which defines __AFL_FUZZ_TESTCASE_LEN) and no
 * arguments: AFL++ persistent mode with shared-memory test cases.
 * Otherwise (any compiler, or AFL build given arguments): replays every file
 * named on the command line (directories: every regular file inside), so the
 * harnesses also build with plain gcc/clang and serve as regression tests.
 *
 * Each input is copied into a buffer of exactly its size, so a sanitizer
 * sees any read past the end of it (the AFL shared-memory buffer is larger
 * than the test case and would hide such reads).
 */
#include <dirent.h>
#include <errno.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz.h"

#ifdef __AFL_FUZZ_TESTCASE_LEN
__AFL_FUZZ_INIT();
#endif

static void run_one(const uint8_t *data, size_t size)
{
	uint8_t *copy = malloc(size ? size : 1);
	if (copy == NULL) {
		perror("malloc");
		exit(2);
	}
	if (size)
		memcpy(copy, data, size);
	LLVMFuzzerTestOneInput(copy, size);
	free(copy);
}

static int replay_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		return 1;
	}
	size_t cap = 4096, len = 0;
	uint8_t *buf = malloc(cap);
	size_t n;
	while (buf != NULL && (n = fread(buf + len, 1, cap - len, f)) > 0) {
		len += n;
		if (len == cap) {
			uint8_t *bigger = realloc(buf, cap * 2);
			if (bigger == NULL) {
				free(buf);
				buf = NULL;
				break;
			}
			buf = bigger;
			cap *= 2;
		}
	}
	int bad = ferror(f) || buf == NULL;
	fclose(f);
	if (bad) {
		fprintf(stderr, "%s: read failed\n", path);
		free(buf);
		return 1;
	}
	run_one(buf, len);
	free(buf);
	return 0;
}

/* Replays a file or, for a directory, each regular file in it (sorted, so
 * runs are reproducible). Returns the number of failures to open/read. */
static int replay_path(const char *path, unsigned long *count)
{
	struct stat st;
	if (stat(path, &st) != 0) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		return 1;
	}
	if (!S_ISDIR(st.st_mode)) {
		(*count)++;
		return replay_file(path);
	}
	struct dirent **names;
	int n = scandir(path, &names, NULL, alphasort);
	if (n < 0) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		return 1;
	}
	int fails = 0;
	for (int i = 0; i < n; i++) {
		if (names[i]->d_name[0] != '.') {
			char full[4096];
			snprintf(full, sizeof full, "%s/%s", path, names[i]->d_name);
			if (stat(full, &st) == 0 && S_ISREG(st.st_mode)) {
				(*count)++;
				fails += replay_file(full);
			}
		}
		free(names[i]);
	}
	free(names);
	return fails;
}

int main(int argc, char **argv)
{
#ifdef __AFL_FUZZ_TESTCASE_LEN
	if (argc < 2) {
		__AFL_INIT();
		/* In the forked target, before the first __AFL_LOOP call, which
		 * clears the coverage map: start-up edges count for no input. */
		if (LLVMFuzzerInitialize)
			LLVMFuzzerInitialize(&argc, &argv);
		const uint8_t *buf = __AFL_FUZZ_TESTCASE_BUF;
		while (__AFL_LOOP(100000)) {
			size_t len = (size_t)__AFL_FUZZ_TESTCASE_LEN;
			run_one(buf, len);
		}
		return 0;
	}
#endif
	if (argc < 2) {
		fprintf(stderr, "usage: %s FILE|DIR...  (replays each input once)\n", argv[0]);
		return 2;
	}
	if (LLVMFuzzerInitialize)
		LLVMFuzzerInitialize(&argc, &argv);
	unsigned long count = 0;
	int fails = 0;
	for (int i = 1; i < argc; i++)
		fails += replay_path(argv[i], &count);
	fprintf(stderr, "%s: replayed %lu inputs, %d unreadable\n", argv[0], count, fails);
	return fails ? 1 : 0;
}
