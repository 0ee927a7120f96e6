// Helpers shared by fastpath.c (stamp records) and content.c (content-addressed lookup).
#ifndef WASMAOT_FASTPATH_INTERNAL_H
#define WASMAOT_FASTPATH_INTERNAL_H

#include "wasmaot_fastpath.h"

#define RECORD_MAX 65536

int wafp__stamp_equal(const wafp_stamp *a, const wafp_stamp *b);
uint64_t wafp__fnv_string(uint64_t h, const char *s);
struct stat;
/// The cache's trust rule on a stat result (trust.c): NULL if trusted, else the problem.
const char *wafp__untrusted(const struct stat *st, char *detail, size_t size);
const char *wafp__runtime_dir_env(void);
__attribute__((format(printf, 4, 5))) int wafp__append(char *buf, size_t size, size_t *len, const char *fmt, ...);
/// "TAG <stamp of path> PATH\n"; -1 if `path` cannot be stat'ed or holds a newline.
int wafp__append_stamp(char *buf, size_t size, size_t *len, const char *tag, const char *path);
/// Next line (NUL-terminated in place), or NULL at the end or on a torn last line.
char *wafp__next_line(char **cursor);
int wafp__parse_stamp_line(char *line, const char *tag, wafp_stamp *s, char **path);
/// Parses "TAG <stamp> PATH" and checks PATH still has that stamp.
int wafp__check_stamp_line(char *line, const char *tag, char **path);
/// Next line must be "TAG VALUE".
int wafp__expect_field(char **cursor, const char *tag, const char *value);
/// Whole file into `buf` (NUL-terminated); its length, or -1 if absent or too large.
long wafp__read_small(const char *path, char *buf, size_t size);
/// Writes `len` bytes to `path` through a temporary file and rename.
int wafp__write_atomically(const char *path, const char *data, size_t len);

#endif
