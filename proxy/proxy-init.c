/*
 * proxy-init: the Rampart proxy image's entrypoint and health check, one static binary, so the
 * runtime image needs no shell, coreutils or curl. Built in the Dockerfile's `helper` stage with
 * that stage's toolchain (which never reaches the runtime image):
 *
 *     cc -static -Os -s -o proxy-init proxy-init.c -lssl -lcrypto
 *
 * Installed as /usr/local/bin/proxy-entrypoint, with /usr/local/bin/proxy-healthcheck a symlink to
 * it; what it does depends on the name it is called by.
 *
 * proxy-entrypoint [NGINX-ARGS...]
 *     Writes PROXY_TLS_CERT and PROXY_TLS_KEY (ECS `secrets`, resolved from Secrets Manager at task
 *     start) to /run/proxy/tls/cert.pem and key.pem, mode 0600, in a directory of mode 0700 on the
 *     task volume; removes both variables from the environment; then execs
 *     `nginx -e stderr -c /etc/rampart-proxy/nginx.conf NGINX-ARGS...`, which becomes PID 1's
 *     program (SIGQUIT drains it). Nothing secret is printed. Exit 64 when a variable is missing or
 *     empty, 71 when a file cannot be written or nginx cannot be started.
 *
 * proxy-healthcheck [PORT]
 *     GET https://127.0.0.1:PORT/healthz over TLS (no certificate verification: loopback to the
 *     sidecar's own self-signed certificate) within 2 seconds; exit 0 on a 200, else 1. PORT
 *     defaults to the first `listen N ssl` of the rendered config.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#ifndef NGINX_BIN
#define NGINX_BIN "/usr/sbin/nginx"
#endif
#ifndef NGINX_CONF
#define NGINX_CONF "/etc/rampart-proxy/nginx.conf"
#endif
#ifndef TLS_DIR
#define TLS_DIR "/run/proxy/tls"
#endif

#define EX_USAGE 64
#define EX_OSERR 71
#define HEALTH_TIMEOUT_SECONDS 2

static const char *prog = "proxy-init";

static void fail_errno(const char *what, const char *path) {
    fprintf(stderr, "%s: %s %s: %s\n", prog, what, path, strerror(errno));
    exit(EX_OSERR);
}

static void write_all(int fd, const char *data, size_t len, const char *path) {
    while (len > 0) {
        ssize_t n = write(fd, data, len);
        if (n < 0) {
            if (errno == EINTR) continue;
            fail_errno("cannot write", path);
        }
        data += n;
        len -= (size_t)n;
    }
}

/* Write value + "\n" to dir/name with mode 0600, replacing any earlier file (never through a link). */
static void write_secret(int dirfd, const char *name, const char *value) {
    char path[256];
    snprintf(path, sizeof path, "%s/%s", TLS_DIR, name);
    int fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) fail_errno("cannot create", path);
    if (fchmod(fd, 0600) != 0) fail_errno("cannot set the mode of", path);
    write_all(fd, value, strlen(value), path);
    write_all(fd, "\n", 1, path);
    if (close(fd) != 0) fail_errno("cannot close", path);
}

static int entrypoint(int argc, char **argv) {
    const char *cert = getenv("PROXY_TLS_CERT");
    const char *key = getenv("PROXY_TLS_KEY");
    if (cert == NULL || *cert == '\0' || key == NULL || *key == '\0') {
        fprintf(stderr, "%s: PROXY_TLS_CERT and PROXY_TLS_KEY must be set (ECS secrets from Secrets Manager)\n", prog);
        return EX_USAGE;
    }
    umask(077);
    if (mkdir(TLS_DIR, 0700) != 0 && errno != EEXIST) fail_errno("cannot create", TLS_DIR);
    int dirfd = open(TLS_DIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (dirfd < 0) fail_errno("cannot open", TLS_DIR);
    write_secret(dirfd, "cert.pem", cert);
    write_secret(dirfd, "key.pem", key);
    close(dirfd);
    if (unsetenv("PROXY_TLS_CERT") != 0 || unsetenv("PROXY_TLS_KEY") != 0) fail_errno("cannot unset", "PROXY_TLS_*");

    char **args = calloc((size_t)argc + 6, sizeof *args);
    if (args == NULL) fail_errno("cannot allocate", "arguments");
    int n = 0;
    args[n++] = "nginx";
    args[n++] = "-e";
    args[n++] = "stderr";
    args[n++] = "-c";
    args[n++] = NGINX_CONF;
    for (int i = 1; i < argc; i++) args[n++] = argv[i];
    args[n] = NULL;
    execv(NGINX_BIN, args);
    fail_errno("cannot execute", NGINX_BIN);
    return EX_OSERR;
}

/* The port of the first `listen N ssl` line of the rendered config, or 0. */
static int config_port(void) {
    FILE *f = fopen(NGINX_CONF, "re");
    if (f == NULL) return 0;
    char line[512];
    int port = 0;
    while (port == 0 && fgets(line, sizeof line, f) != NULL) {
        char *p = line;
        while (*p == ' ' || *p == '\t') p++;
        int value = 0, used = 0;
        if (sscanf(p, "listen %d ssl%n", &value, &used) == 1 && used > 0) port = value;
    }
    fclose(f);
    return port;
}

static int unhealthy(const char *why) {
    fprintf(stderr, "proxy-healthcheck: %s\n", why);
    return 1;
}

static int healthcheck(int argc, char **argv) {
    alarm(HEALTH_TIMEOUT_SECONDS); /* SIGALRM's default action ends the check as failed */
    int port = argc > 1 ? atoi(argv[1]) : config_port();
    if (port <= 0 || port > 65535) return unhealthy("no TLS port (give it as the first argument)");

    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return unhealthy(strerror(errno));
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&addr, sizeof addr) != 0) return unhealthy(strerror(errno));

    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    if (ctx == NULL) return unhealthy("cannot create a TLS context");
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
    SSL *ssl = SSL_new(ctx);
    if (ssl == NULL || SSL_set_fd(ssl, fd) != 1) return unhealthy("cannot create a TLS connection");
    if (SSL_connect(ssl) != 1) return unhealthy("TLS handshake failed");

    static const char request[] =
        "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: proxy-healthcheck\r\nConnection: close\r\n\r\n";
    if (SSL_write(ssl, request, (int)(sizeof request - 1)) <= 0) return unhealthy("cannot send the request");

    char reply[64];
    int have = 0;
    while (have < (int)sizeof reply - 1) {
        int n = SSL_read(ssl, reply + have, (int)sizeof reply - 1 - have);
        if (n <= 0) break;
        have += n;
        if (memchr(reply, '\n', (size_t)have) != NULL) break;
    }
    reply[have] = '\0';
    char *eol = strpbrk(reply, "\r\n");
    if (eol != NULL) *eol = '\0';
    if (strncmp(reply, "HTTP/1.1 200 ", 13) != 0) {
        char why[96];
        snprintf(why, sizeof why, "/healthz answered %s", have > 0 ? reply : "nothing");
        return unhealthy(why);
    }
    SSL_shutdown(ssl);
    SSL_free(ssl);
    SSL_CTX_free(ctx);
    close(fd);
    return 0;
}

int main(int argc, char **argv) {
    const char *base = strrchr(argv[0], '/');
    base = base ? base + 1 : argv[0];
    if (strcmp(base, "proxy-healthcheck") == 0) {
        prog = "proxy-healthcheck";
        return healthcheck(argc, argv);
    }
    prog = "proxy-entrypoint";
    return entrypoint(argc, argv);
}
