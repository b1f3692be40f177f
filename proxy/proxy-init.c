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
 *     Puts the sidecar's TLS pair in /run/proxy/tls/cert.pem and key.pem, mode 0600, in a directory
 *     of mode 0700 on the task volume, then execs
 *     `nginx -e stderr -c /etc/rampart-proxy/nginx.conf NGINX-ARGS...`, which becomes PID 1's
 *     program (SIGQUIT drains it).
 *     - By default it makes the pair itself: a fresh EC P-256 key (OpenSSL EVP) and a self-signed
 *       certificate for PROXY_TLS_COMMON_NAME (default proxy.internal; also its DNS SAN), valid
 *       PROXY_TLS_VALIDITY_DAYS days (default 365), serverAuth only. Every start makes a new key;
 *       it exists only in the task's volume and nginx's memory (the ALB does not validate target
 *       certificates, so nothing else needs it).
 *     - A stack that brings its own certificate sets PROXY_TLS_CERT and PROXY_TLS_KEY (ECS
 *       `secrets`, resolved from Secrets Manager at task start): it writes those instead and
 *       removes both variables from the environment.
 *     Nothing secret is printed (the certificate's SHA-256 fingerprint is, when it makes one).
 *     Exit 64 when only one of PROXY_TLS_CERT / PROXY_TLS_KEY is set or a PROXY_TLS_* setting is
 *     invalid, 70 when OpenSSL cannot make the pair, 71 when a file cannot be written or nginx
 *     cannot be started.
 *
 * proxy-healthcheck [PORT]
 *     GET https://127.0.0.1:PORT/PATH over TLS (no certificate verification: loopback to the
 *     sidecar's own self-signed certificate) within 2 seconds; exit 0 on a 200, else 1. PORT
 *     defaults to the first `listen N ssl` of the rendered config. PATH is always the config's first
 *     exact-match location (`location = PATH`): the health location, which the renderer writes first
 *     from the one HEALTH_CHECK_PATH the load balancer's health check also uses
 *     (rampart/components/routing.py), so this probe cannot drift from what nginx answers.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
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

#ifndef DEFAULT_COMMON_NAME
#define DEFAULT_COMMON_NAME "proxy.internal"
#endif
#ifndef DEFAULT_VALIDITY_DAYS
#define DEFAULT_VALIDITY_DAYS 365
#endif
/* The limits CertificateSettings enforces (rampart/components/proxy_config.py), checked again here
 * for an image run by hand; a CN is at most 64 characters (RFC 5280 ub-common-name). */
#define MAX_VALIDITY_DAYS 825
#define MAX_COMMON_NAME 64

#define EX_USAGE 64
#define EX_SOFTWARE 70
#define EX_OSERR 71
#define HEALTH_TIMEOUT_SECONDS 2
/* The longest health path read from the config (routing.py's paths are far shorter). */
#define MAX_HEALTH_PATH 255
#define MAX_HEALTH_PATH_TEXT "256"

static const char *prog = "proxy-init";

static void fail_errno(const char *what, const char *path) {
    fprintf(stderr, "%s: %s %s: %s\n", prog, what, path, strerror(errno));
    exit(EX_OSERR);
}

/* Open dir/name for writing with mode 0600, replacing any earlier file (never through a link). */
static FILE *create_private(int dirfd, const char *name) {
    char path[256];
    snprintf(path, sizeof path, "%s/%s", TLS_DIR, name);
    int fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) fail_errno("cannot create", path);
    if (fchmod(fd, 0600) != 0) fail_errno("cannot set the mode of", path);
    FILE *f = fdopen(fd, "w");
    if (f == NULL) fail_errno("cannot open", path);
    return f;
}

static int open_tls_dir(void) {
    umask(077);
    if (mkdir(TLS_DIR, 0700) != 0 && errno != EEXIST) fail_errno("cannot create", TLS_DIR);
    int dirfd = open(TLS_DIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (dirfd < 0) fail_errno("cannot open", TLS_DIR);
    return dirfd;
}

static void fail_openssl(const char *what) {
    fprintf(stderr, "%s: cannot %s: ", prog, what);
    ERR_print_errors_fp(stderr);
    fputc('\n', stderr);
    exit(EX_SOFTWARE);
}

/* The certificate's common name: a DNS name (letters, digits, '-', '.'), at most 64 characters. */
static const char *common_name(void) {
    const char *cn = getenv("PROXY_TLS_COMMON_NAME");
    if (cn == NULL || *cn == '\0') return DEFAULT_COMMON_NAME;
    size_t len = strlen(cn);
    int ok = len <= MAX_COMMON_NAME && cn[0] != '.' && cn[0] != '-' && cn[len - 1] != '.';
    for (const char *p = cn; ok && *p; p++)
        ok = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '-' || *p == '.';
    if (!ok) {
        fprintf(stderr, "%s: PROXY_TLS_COMMON_NAME=%.80s is not a DNS name of at most %d characters; set "
                "proxy.certificate.commonName in the stack file to one (e.g. %s)\n", prog, cn, MAX_COMMON_NAME,
                DEFAULT_COMMON_NAME);
        exit(EX_USAGE);
    }
    return cn;
}

static long validity_days(void) {
    const char *text = getenv("PROXY_TLS_VALIDITY_DAYS");
    if (text == NULL || *text == '\0') return DEFAULT_VALIDITY_DAYS;
    char *end = NULL;
    errno = 0;
    long days = strtol(text, &end, 10);
    if (errno != 0 || end == text || *end != '\0' || days < 1 || days > MAX_VALIDITY_DAYS) {
        fprintf(stderr, "%s: PROXY_TLS_VALIDITY_DAYS=%.20s is not a number of days from 1 to %d; set "
                "proxy.certificate.validityDays in the stack file within that range\n", prog, text, MAX_VALIDITY_DAYS);
        exit(EX_USAGE);
    }
    return days;
}

static void add_extension(X509 *cert, int nid, const char *value) {
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, cert, cert, NULL, NULL, 0);
    X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
    if (ext == NULL || X509_add_ext(cert, ext, -1) != 1) fail_openssl("add a certificate extension");
    X509_EXTENSION_free(ext);
}

/* A fresh EC P-256 key and a self-signed certificate for it, written to the TLS directory. */
static void make_pair(int dirfd) {
    const char *cn = common_name();
    long days = validity_days();

    EVP_PKEY *key = EVP_EC_gen("P-256");
    if (key == NULL) fail_openssl("make an EC P-256 key");

    X509 *cert = X509_new();
    if (cert == NULL || X509_set_version(cert, X509_VERSION_3) != 1) fail_openssl("make a certificate");
    unsigned char serial[16];
    if (RAND_bytes(serial, sizeof serial) != 1) fail_openssl("make a serial number");
    serial[0] &= 0x7f; /* positive, at most 20 octets (RFC 5280 4.1.2.2) */
    serial[0] |= 0x40; /* and never zero */
    BIGNUM *bn = BN_bin2bn(serial, sizeof serial, NULL);
    if (bn == NULL || BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert)) == NULL) fail_openssl("set the serial number");
    BN_free(bn);
    /* five minutes back, for clients whose clock is a little behind */
    if (X509_gmtime_adj(X509_getm_notBefore(cert), -300) == NULL ||
        X509_time_adj_ex(X509_getm_notAfter(cert), (int)days, 0, NULL) == NULL)
        fail_openssl("set the validity period");
    X509_NAME *name = X509_get_subject_name(cert);
    if (X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0) != 1 ||
        X509_set_issuer_name(cert, name) != 1 || X509_set_pubkey(cert, key) != 1)
        fail_openssl("set the subject");
    char san[MAX_COMMON_NAME + 8];
    snprintf(san, sizeof san, "DNS:%s", cn);
    add_extension(cert, NID_subject_alt_name, san);
    add_extension(cert, NID_basic_constraints, "critical,CA:FALSE");
    add_extension(cert, NID_key_usage, "critical,digitalSignature");
    add_extension(cert, NID_ext_key_usage, "serverAuth");
    add_extension(cert, NID_subject_key_identifier, "hash");
    if (X509_sign(cert, key, EVP_sha256()) <= 0) fail_openssl("sign the certificate");

    FILE *f = create_private(dirfd, "key.pem");
    if (PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL) != 1) fail_openssl("write " TLS_DIR "/key.pem");
    if (fclose(f) != 0) fail_errno("cannot close", TLS_DIR "/key.pem");
    f = create_private(dirfd, "cert.pem");
    if (PEM_write_X509(f, cert) != 1) fail_openssl("write " TLS_DIR "/cert.pem");
    if (fclose(f) != 0) fail_errno("cannot close", TLS_DIR "/cert.pem");

    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int digest_len = 0;
    if (X509_digest(cert, EVP_sha256(), digest, &digest_len) != 1) fail_openssl("hash the certificate");
    fprintf(stderr, "%s: made a self-signed EC P-256 certificate for %s, valid %ld days, SHA-256 ", prog, cn, days);
    for (unsigned int i = 0; i < digest_len; i++) fprintf(stderr, "%02X%s", digest[i], i + 1 < digest_len ? ":" : "\n");
    X509_free(cert);
    EVP_PKEY_free(key);
}

/* Write value + "\n" to dir/name with mode 0600. */
static void write_secret(int dirfd, const char *name, const char *value) {
    FILE *f = create_private(dirfd, name);
    if (fputs(value, f) == EOF || fputc('\n', f) == EOF || fclose(f) != 0) fail_errno("cannot write", name);
}

static int entrypoint(int argc, char **argv) {
    const char *cert = getenv("PROXY_TLS_CERT");
    const char *key = getenv("PROXY_TLS_KEY");
    int have_cert = cert != NULL && *cert != '\0', have_key = key != NULL && *key != '\0';
    if (have_cert != have_key) {
        fprintf(stderr, "%s: only %s is set: give both PROXY_TLS_CERT and PROXY_TLS_KEY (a certificate the stack "
                "brings, ECS secrets from Secrets Manager) or neither (the sidecar makes its own pair)\n", prog,
                have_cert ? "PROXY_TLS_CERT" : "PROXY_TLS_KEY");
        return EX_USAGE;
    }
    int dirfd = open_tls_dir();
    if (have_cert) {
        write_secret(dirfd, "cert.pem", cert);
        write_secret(dirfd, "key.pem", key);
    } else {
        make_pair(dirfd);
    }
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

/* A health path as the renderer writes it (HealthCheckSettings' pattern): '/', then letters, digits
 * and . _ ~ / - only, so it is safe in the request line. */
static int safe_path(const char *path) {
    if (path[0] != '/') return 0;
    for (const char *c = path; *c != '\0'; c++)
        if (strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._~/-", *c) == NULL) return 0;
    return 1;
}

/* The path of the first `location = PATH {` line of the rendered config (the health location) in
 * `path`; 0 when there is none or it is not a plain path of at most MAX_HEALTH_PATH characters. */
static int config_health_path(char path[MAX_HEALTH_PATH + 2]) {
    FILE *f = fopen(NGINX_CONF, "re");
    if (f == NULL) return 0;
    char line[512];
    int found = 0;
    while (!found && fgets(line, sizeof line, f) != NULL) {
        char *p = line;
        while (*p == ' ' || *p == '\t') p++;
        int used = 0;
        if (sscanf(p, "location = %" MAX_HEALTH_PATH_TEXT "s {%n", path, &used) == 1) found = used > 0 ? 1 : -1;
    }
    fclose(f);
    return found == 1 && strlen(path) <= MAX_HEALTH_PATH && safe_path(path);
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
    char path[MAX_HEALTH_PATH + 2];
    if (!config_health_path(path)) return unhealthy("no health location (`location = /PATH {`) in " NGINX_CONF);

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

    char request[MAX_HEALTH_PATH + 128];
    int length = snprintf(request, sizeof request,
        "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: proxy-healthcheck\r\nConnection: close\r\n\r\n", path);
    if (SSL_write(ssl, request, length) <= 0) return unhealthy("cannot send the request");

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
        char why[MAX_HEALTH_PATH + 96];
        snprintf(why, sizeof why, "%s answered %s", path, have > 0 ? reply : "nothing");
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
