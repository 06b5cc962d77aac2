// stamp OUT COMMAND...: runs COMMAND with its stdout and stderr into a pipe and writes each line it prints
// to OUT as "EPOCH_MS LINE", stamped as it arrives (read blocking: no polling beside the JVMs being timed).
// Passes SIGTERM and SIGINT on to COMMAND and exits with its status. For bench/start.
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

static pid_t child;

static void forward(int sig) { if (child > 0) kill(child, sig); }

static long long now_ms(void) {
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (long long)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

int main(int argc, char **argv) {
    if (argc < 3) { fprintf(stderr, "usage: stamp OUT COMMAND...\n"); return 2; }
    FILE *out = fopen(argv[1], "w");
    if (!out) { perror(argv[1]); return 2; }
    int fds[2];
    if (pipe(fds) < 0) { perror("pipe"); return 2; }
    fprintf(out, "%lld sticky-bench: exec\n", now_ms());
    fflush(out);
    child = fork();
    if (child == 0) {
        dup2(fds[1], 1);
        dup2(fds[1], 2);
        close(fds[0]);
        close(fds[1]);
        execvp(argv[2], argv + 2);
        perror("exec");
        _exit(127);
    }
    close(fds[1]);
    signal(SIGTERM, forward);
    signal(SIGINT, forward);
    FILE *in = fdopen(fds[0], "r");
    char line[8192];
    while (fgets(line, sizeof line, in)) {
        fprintf(out, "%lld %s", now_ms(), line);
        fflush(out);
    }
    int status = 0;
    while (waitpid(child, &status, 0) < 0) {}
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
