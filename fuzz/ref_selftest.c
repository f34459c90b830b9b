/*
 * fuzz/ref_selftest.c - proves the fuzz harness's reference iterator
 * (ref_textheaders.h) right on the Zig vectors, so that a differential
 * failure in fuzz_th_iter always points at the codec, not at the model.
 *
 * Input file (made by fuzz/tools/vectors2txt.py): one vector per line,
 *   <tcId> <input hex> <n> <name hex> <value hex> ... ("-" for empty hex)
 * the fields being what a caller looping next() until null receives.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ref_textheaders.h"

static size_t unhex(const char *s, uint8_t *out)
{
	size_t n = 0;
	if (strcmp(s, "-") == 0)
		return 0;
	for (; s[0] && s[1]; s += 2) {
		unsigned v;
		if (sscanf(s, "%2x", &v) != 1)
			break;
		out[n++] = (uint8_t)v;
	}
	return n;
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s VECTORS.txt\n", argv[0]);
		return 2;
	}
	FILE *f = fopen(argv[1], "r");
	if (f == NULL) {
		perror(argv[1]);
		return 2;
	}
	static char line[1 << 20];
	static uint8_t input[1 << 18], want[1 << 18];
	int checked = 0, failed = 0;
	while (fgets(line, sizeof line, f)) {
		char *save = NULL, *tok = strtok_r(line, " \n", &save);
		if (tok == NULL)
			continue;
		int id = atoi(tok);
		size_t len = unhex(strtok_r(NULL, " \n", &save), input);
		int n = atoi(strtok_r(NULL, " \n", &save));
		struct ref_th_iter it;
		tofu_th_field fld;
		ref_th_init(&it, input, len);
		int ok = 1, got = 0;
		for (int i = 0; i < n && ok; i++) {
			size_t nl = unhex(strtok_r(NULL, " \n", &save), want);
			size_t vl = unhex(strtok_r(NULL, " \n", &save), want + nl);
			if (!ref_th_next(&it, &fld) || fld.name_len != nl || fld.value_len != vl ||
			    memcmp(fld.name, want, nl) != 0 ||
			    memcmp(fld.value, want + nl, vl) != 0)
				ok = 0;
			got++;
		}
		if (ok && ref_th_next(&it, &fld))
			ok = 0; /* the Zig caller saw null here */
		checked++;
		if (!ok) {
			failed++;
			fprintf(stderr, "reference iterator disagrees with Zig vector tcId %d\n",
				id);
		}
	}
	fclose(f);
	printf("ref_selftest: %d vectors, %d disagreements\n", checked, failed);
	return failed || checked == 0 ? 1 : 0;
}
