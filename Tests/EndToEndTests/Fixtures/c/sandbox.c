// Escape attempts from a preopened directory: each line names the attempt and the errno the
// guest saw (or "ok"). Run with the directory preopened as "." (see SandboxTests).
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static void attempt(const char *what, int rc) {
    printf("%s: %s\n", what, rc >= 0 ? "ok" : strerror(errno));
    if (rc >= 0) close(rc);
}

int main(void) {
    attempt("open ../outside.txt", open("../outside.txt", O_RDONLY));
    attempt("open sub/../../outside.txt", open("sub/../../outside.txt", O_RDONLY));
    attempt("open /etc/passwd", open("/etc/passwd", O_RDONLY));
    attempt("open sub/../inside.txt", open("sub/../inside.txt", O_RDONLY));
    attempt("symlink abs", symlink("/etc", "abs-link"));
    attempt("symlink up", symlink("../..", "up-link"));
    attempt("open up-link/outside.txt", open("up-link/outside.txt", O_RDONLY));
    attempt("open host-link/passwd", open("host-link/passwd", O_RDONLY));
    attempt("create ../created.txt", open("../created.txt", O_WRONLY | O_CREAT, 0644));
    attempt("mkdir ../newdir", mkdir("../newdir", 0755));
    return 0;
}
