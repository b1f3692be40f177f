/* A tiny HTTP server for `rampart local`'s alb-mode test: one static binary, no shell, no runtime.
 *   server                 serve on $PORT: GET /hello -> 200, GET /ready -> 200, anything else -> 404;
 *                          with READY_FOR_SECONDS=N, /ready answers 503 from N seconds after the start
 *                          (a release that passes its health checks, then fails them: the bake test)
 *   server --check         the image's health check: GET /ready on 127.0.0.1:$PORT answers 200
 *   server --check-fail    a health check that always fails, saying so (the fail-fast test)
 *   server --write FILE    create FILE and write to it (the read-only mount test) */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static time_t started;

static int port(void) {
    const char *p = getenv("PORT");
    return p ? atoi(p) : 9090;
}

static int ready(void) {
    const char *limit = getenv("READY_FOR_SECONDS");
    return limit == NULL || time(NULL) - started < atoi(limit);
}

static void answer(int fd) {
    char request[2048];
    ssize_t n = read(fd, request, sizeof request - 1);
    if (n <= 0) return;
    request[n] = 0;
    const char *body = "not found\n";
    int status = 404;
    if (strncmp(request, "GET /hello ", 11) == 0) { status = 200; body = "hello from a static binary\n"; }
    else if (strncmp(request, "GET /ready ", 11) == 0) {
        if (ready()) { status = 200; body = "ok\n"; } else { status = 503; body = "no longer ready\n"; }
    }
    char response[512];
    int len = snprintf(response, sizeof response,
                       "HTTP/1.1 %d %s\r\nContent-Type: text/plain\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n%s",
                       status, status == 200 ? "OK" : status == 503 ? "Service Unavailable" : "Not Found",
                       strlen(body), body);
    if (write(fd, response, (size_t)len) < 0) perror("write");
}

static int serve(void) {
    started = time(NULL);
    int s = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((unsigned short)port()),
                               .sin_addr.s_addr = htonl(INADDR_ANY)};
    if (bind(s, (struct sockaddr *)&addr, sizeof addr) < 0 || listen(s, 64) < 0) { perror("listen"); return 1; }
    printf("listening on %d\n", port());
    fflush(stdout);
    for (;;) {
        int c = accept(s, NULL, NULL);
        if (c < 0) continue;
        answer(c);
        close(c);
    }
}

static int check(void) {
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((unsigned short)port()),
                               .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    char reply[64] = {0};
    const char *req = "GET /ready HTTP/1.0\r\n\r\n";
    if (connect(s, (struct sockaddr *)&addr, sizeof addr) < 0 || write(s, req, strlen(req)) < 0
        || read(s, reply, sizeof reply - 1) <= 0) {
        printf("health: no answer on 127.0.0.1:%d\n", port());
        return 1;
    }
    if (strncmp(reply, "HTTP/1.1 200", 12) != 0) { printf("health: /ready answered %.12s\n", reply); return 1; }
    return 0;
}

static int write_file(const char *path) {
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0 || write(fd, "x", 1) != 1) { printf("write %s: %s\n", path, strerror(errno)); return 1; }
    close(fd);
    printf("wrote %s\n", path);
    return 0;
}

int main(int argc, char **argv) {
    if (argc > 1 && strcmp(argv[1], "--check") == 0) return check();
    if (argc > 1 && strcmp(argv[1], "--check-fail") == 0) {
        printf("health: refused on purpose by the fail-fast test\n");
        return 1;
    }
    if (argc > 2 && strcmp(argv[1], "--write") == 0) return write_file(argv[2]);
    return serve();
}
