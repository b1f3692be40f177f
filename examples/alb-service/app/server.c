/*
 * catalog: a tiny HTTP service as one static binary (no shell, no libc at run time).
 *
 *   catalog              serve on $PORT (default 9090): GET / -> JSON, GET /status/ready -> "ready"
 *   catalog healthcheck  exit 0 when the running server answers 200 on /status/ready (the image's
 *                        HEALTHCHECK; it runs inside the container, where nothing else exists)
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#define DEFAULT_PORT 9090
#define READY_PATH "/status/ready"

static int port_from_env(void) {
    const char *value = getenv("PORT");
    long port = value ? strtol(value, NULL, 10) : DEFAULT_PORT;
    return (port > 0 && port < 65536) ? (int)port : DEFAULT_PORT;
}

static void set_timeouts(int fd, int seconds) {
    struct timeval tv = {.tv_sec = seconds, .tv_usec = 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

static void respond(int fd, const char *status, const char *type, const char *body) {
    char head[256];
    int n = snprintf(head, sizeof head,
                     "HTTP/1.1 %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n",
                     status, type, strlen(body));
    if (write(fd, head, (size_t)n) == n) {
        (void)!write(fd, body, strlen(body));
    }
}

static void handle(int fd) {
    char request[2048];
    ssize_t got = read(fd, request, sizeof request - 1);
    if (got <= 0) {
        return;
    }
    request[got] = '\0';
    char method[8] = {0}, path[1024] = {0};
    if (sscanf(request, "%7s %1023s", method, path) != 2 || strcmp(method, "GET") != 0) {
        respond(fd, "405 Method Not Allowed", "text/plain", "method not allowed\n");
    } else if (strcmp(path, READY_PATH) == 0) {
        respond(fd, "200 OK", "text/plain", "ready\n");
    } else if (strcmp(path, "/") == 0) {
        respond(fd, "200 OK", "application/json", "{\"service\":\"catalog\",\"items\":[\"lamp\",\"desk\"]}\n");
    } else {
        respond(fd, "404 Not Found", "text/plain", "not found\n");
    }
}

static int serve(int port) {
    int server = socket(AF_INET, SOCK_STREAM, 0);
    int on = 1;
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((unsigned short)port),
                               .sin_addr.s_addr = htonl(INADDR_ANY)};
    if (server < 0 || setsockopt(server, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on) != 0 ||
        bind(server, (struct sockaddr *)&addr, sizeof addr) != 0 || listen(server, 64) != 0) {
        fprintf(stderr, "catalog: cannot listen on port %d: %s\n", port, strerror(errno));
        return 1;
    }
    signal(SIGPIPE, SIG_IGN);
    fprintf(stderr, "{\"msg\":\"listening\",\"port\":%d}\n", port);
    for (;;) {
        int client = accept(server, NULL, NULL);
        if (client < 0) {
            continue;
        }
        set_timeouts(client, 5);
        handle(client);
        close(client);
    }
}

static int healthcheck(int port) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((unsigned short)port),
                               .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    char reply[64] = {0};
    const char *request = "GET " READY_PATH " HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
    if (fd < 0) {
        return 1;
    }
    set_timeouts(fd, 2);
    if (connect(fd, (struct sockaddr *)&addr, sizeof addr) != 0 ||
        write(fd, request, strlen(request)) != (ssize_t)strlen(request) || read(fd, reply, sizeof reply - 1) <= 0) {
        fprintf(stderr, "catalog healthcheck: no answer on 127.0.0.1:%d%s\n", port, READY_PATH);
        return 1;
    }
    if (strncmp(reply, "HTTP/1.1 200", 12) != 0) {
        fprintf(stderr, "catalog healthcheck: %s answered %.12s\n", READY_PATH, reply);
        return 1;
    }
    return 0;
}

int main(int argc, char **argv) {
    int port = port_from_env();
    if (argc == 2 && strcmp(argv[1], "healthcheck") == 0) {
        return healthcheck(port);
    }
    if (argc != 1) {
        fprintf(stderr, "usage: catalog [healthcheck]\n");
        return 64;
    }
    return serve(port);
}
