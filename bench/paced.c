/*
 * HTTP requests on new connections at a fixed rate, for latency below
 * saturation (wrk measures at saturation). Request i is due at start + i/rate;
 * its latency runs from when it was due to the server's close after the
 * response, so a request that starts late because the client or server was
 * busy counts the wait (no coordinated omission). The first second is warm-up
 * and not counted. One thread, non-blocking sockets, epoll and a timerfd for
 * the due times: a JVM client at ten thousand connections a second took a
 * core of its own and made the server's tail its own.
 * Connections leave from SOURCES loopback addresses 127.0.N.1 in turn (1: the
 * kernel's choice). Prints "p50_us p99_us failed", a percentile -1 when it
 * falls on a failed request.
 * Usage: paced PORT RATE SECONDS [SOURCES]
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#ifndef IP_BIND_ADDRESS_NO_PORT
#define IP_BIND_ADDRESS_NO_PORT 24
#endif

#define MAX_FDS 65536
#define TIMEOUT_NS 5000000000LL

static const char REQUEST[] = "GET / HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n";

struct connection {
    long index; /* -1: no connection on this descriptor */
    int64_t due;
};

static struct connection connections[MAX_FDS];
static int64_t *latencies;
static long failed;

static int64_t now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t) t.tv_sec * 1000000000LL + t.tv_nsec;
}

static int compare(const void *a, const void *b) {
    int64_t x = *(const int64_t *) a, y = *(const int64_t *) b;
    return (x > y) - (x < y);
}

static void finish(int epoll, int fd, int ok) {
    struct connection *c = &connections[fd];
    if (ok) {
        latencies[c->index] = now_ns() - c->due;
    } else {
        latencies[c->index] = INT64_MAX;
        failed++;
    }
    c->index = -1;
    epoll_ctl(epoll, EPOLL_CTL_DEL, fd, NULL);
    close(fd);
}

static void open_connection(int epoll, long i, int64_t due, int port, int sources) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0 || fd >= MAX_FDS) {
        if (fd >= 0) close(fd);
        latencies[i] = INT64_MAX;
        failed++;
        return;
    }
    struct linger linger = {1, 0}; /* no TIME_WAIT pile-up on the client side */
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &linger, sizeof linger);
    if (sources > 1) {
        int one = 1;
        struct sockaddr_in from = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(0x7f000001u | ((i % sources) << 8))};
        setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
        bind(fd, (struct sockaddr *) &from, sizeof from);
    }
    struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(0x7f000001u)};
    connections[fd] = (struct connection){i, due};
    struct epoll_event event = {.events = EPOLLOUT, .data.fd = fd};
    epoll_ctl(epoll, EPOLL_CTL_ADD, fd, &event);
    if (connect(fd, (struct sockaddr *) &to, sizeof to) < 0 && errno != EINPROGRESS) {
        finish(epoll, fd, 0);
    }
}

static void ready(int epoll, int fd, uint32_t events) {
    if (connections[fd].index < 0) return;
    if (events & EPOLLOUT) {
        int error = 0;
        socklen_t length = sizeof error;
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length);
        if (error || write(fd, REQUEST, sizeof REQUEST - 1) != (ssize_t) (sizeof REQUEST - 1)) {
            finish(epoll, fd, 0);
            return;
        }
        struct epoll_event event = {.events = EPOLLIN, .data.fd = fd};
        epoll_ctl(epoll, EPOLL_CTL_MOD, fd, &event);
        return;
    }
    char buffer[4096];
    ssize_t n;
    while ((n = read(fd, buffer, sizeof buffer)) > 0) {
        /* until the server closes */
    }
    if (n == 0) {
        finish(epoll, fd, 1);
    } else if (errno != EAGAIN) {
        finish(epoll, fd, 0);
    }
}

/* A latency in microseconds, or -1 for a failed request, which has none. */
static long long micros(int64_t latency) {
    return latency == INT64_MAX ? -1 : (long long) (latency / 1000);
}

int main(int argc, char **argv) {
    if (argc < 4) {
        fprintf(stderr, "usage: paced PORT RATE SECONDS [SOURCES]\n");
        return 2;
    }
    int port = atoi(argv[1]);
    double rate = atof(argv[2]);
    long total = (long) (rate * (atoi(argv[3]) + 1)), warm_up = (long) rate;
    int sources = argc > 4 ? atoi(argv[4]) : 1;
    if (rate <= 0 || total <= warm_up) {
        fprintf(stderr, "paced: RATE and SECONDS must be positive\n");
        return 2;
    }
    latencies = calloc(total, sizeof *latencies);
    for (int fd = 0; fd < MAX_FDS; fd++) connections[fd].index = -1;
    int epoll = epoll_create1(EPOLL_CLOEXEC);
    int timer = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    struct epoll_event timer_event = {.events = EPOLLIN, .data.fd = timer};
    epoll_ctl(epoll, EPOLL_CTL_ADD, timer, &timer_event);

    int64_t start = now_ns() + 10000000, deadline = -1;
    long next = 0, open = 0;
    struct epoll_event events[256];
    while (next < total || open > 0) {
        int64_t now = now_ns();
        for (; next < total; next++) {
            int64_t due = start + (int64_t) (next * 1e9 / rate);
            if (due > now) {
                struct itimerspec at = {.it_value = {due / 1000000000LL, due % 1000000000LL}};
                timerfd_settime(timer, TFD_TIMER_ABSTIME, &at, NULL);
                break;
            }
            open_connection(epoll, next, due, port, sources);
        }
        if (next == total && deadline < 0) deadline = now + TIMEOUT_NS;
        if (deadline >= 0 && now > deadline) break;
        int n = epoll_wait(epoll, events, 256, next < total ? -1 : 100);
        for (int e = 0; e < n; e++) {
            int fd = events[e].data.fd;
            if (fd == timer) {
                uint64_t expirations;
                (void) !read(timer, &expirations, sizeof expirations);
            } else {
                ready(epoll, fd, events[e].events);
            }
        }
        open = 0;
        for (int fd = 0; fd < MAX_FDS && next == total; fd++) {
            open += connections[fd].index >= 0;
        }
    }
    for (int fd = 0; fd < MAX_FDS; fd++) {
        if (connections[fd].index >= 0) finish(epoll, fd, 0); /* timed out */
    }
    long measured = total - warm_up;
    qsort(latencies + warm_up, measured, sizeof *latencies, compare);
    printf("%lld %lld %ld\n", micros(latencies[warm_up + measured / 2]),
           micros(latencies[warm_up + (long) (measured * 0.99)]), failed);
    return 0;
}
