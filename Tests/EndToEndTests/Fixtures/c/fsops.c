/* Directory operations in the current directory (a preopened dir under WASI): mkdir, nested
 * files, rename, readdir listing, unlink, rmdir. Exit status: 0 on success, else the failing step. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int cmp(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static void list_dir(const char *title) {
    DIR *d = opendir(".");
    if (!d) { printf("opendir failed\n"); return; }
    char *names[64];
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) && n < 64) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
        names[n++] = strdup(e->d_name);
    }
    closedir(d);
    qsort(names, n, sizeof *names, cmp);
    printf("%s:", title);
    for (int i = 0; i < n; i++) { printf(" %s", names[i]); free(names[i]); }
    printf("\n");
}

int main(void) {
    FILE *out = fopen("data.bin", "wb");
    if (!out) return 9;
    fputs("0123456789", out);
    fclose(out);
    list_dir("initial");
    if (mkdir("sub", 0755) != 0) { printf("mkdir failed\n"); return 10; }
    out = fopen("sub/nested.txt", "w");
    if (!out) return 11;
    fputs("nested\n", out);
    fclose(out);
    if (rename("data.bin", "renamed.bin") != 0) return 12;
    list_dir("listing");
    if (remove("renamed.bin") != 0) return 13;
    if (unlink("sub/nested.txt") != 0 || rmdir("sub") != 0) return 14;
    list_dir("final");
    struct stat st;
    printf("sub gone: %d\n", stat("sub", &st) != 0 && errno == ENOENT);
    return 0;
}
