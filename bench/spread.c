/*
 * LD_PRELOAD shim for wrk: each TCP connection to a 127.x.x.x address leaves
 * from one of STICKY_BENCH_SOURCES (default 64) loopback addresses 127.0.N.1,
 * in turn. wrk connects from a single address, and an IP-hash balancer sends
 * a single address to a single worker; real servers have many clients. The
 * third octet varies because nginx's ip_hash hashes only the first three.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dlfcn.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/socket.h>

#ifndef IP_BIND_ADDRESS_NO_PORT
#define IP_BIND_ADDRESS_NO_PORT 24
#endif

static atomic_uint next_source;

int connect(int fd, const struct sockaddr *to, socklen_t length) {
    static int (*real_connect)(int, const struct sockaddr *, socklen_t);
    if (!real_connect) {
        real_connect = (int (*)(int, const struct sockaddr *, socklen_t)) dlsym(RTLD_NEXT, "connect");
    }
    const struct sockaddr_in *in = (const struct sockaddr_in *) to;
    if (to->sa_family == AF_INET && (ntohl(in->sin_addr.s_addr) >> 24) == 127) {
        const char *env = getenv("STICKY_BENCH_SOURCES");
        unsigned sources = env ? (unsigned) atoi(env) : 64;
        if (sources > 1 && sources <= 256) {
            unsigned n = atomic_fetch_add(&next_source, 1) % sources;
            struct sockaddr_in from = {0};
            from.sin_family = AF_INET;
            from.sin_addr.s_addr = htonl(0x7f000001u | (n << 8));
            int one = 1;
            setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one); /* port chosen at connect */
            bind(fd, (const struct sockaddr *) &from, sizeof from); /* on failure connect picks the source */
        }
    }
    return real_connect(fd, to, length);
}
