package sticky.agent.unix;

import java.io.IOException;

/**
 * Copies of another process's descriptors (pidfd_open and pidfd_getfd, Linux
 * 5.6+): the master looks into its workers' connections with them. The
 * kernel allows it where the caller may ptrace the process, as a parent may
 * its child (Yama's ptrace_scope 1 included); a container's seccomp profile
 * may refuse it.
 */
public final class ProcessDescriptors implements AutoCloseable {
    private final int pidfd;

    private ProcessDescriptors(int pidfd) {
        this.pidfd = pidfd;
    }

    /** The process's descriptors, or null if it is gone; throws if the kernel refuses. */
    public static ProcessDescriptors of(long pid) throws IOException {
        int pidfd = (int) Libc.syscall(Libc.SYS_PIDFD_OPEN, pid, 0, 0);
        if (pidfd < 0) {
            int errno = Libc.errno();
            if (errno == Libc.ESRCH) {
                return null;
            }
            throw new IOException("pidfd_open(" + pid + "): " + Libc.strerror(errno));
        }
        return new ProcessDescriptors(pidfd);
    }

    /**
     * A copy of the process's descriptor fd, or -1 if it has none by that
     * number now (or has exited meanwhile); throws if the kernel refuses.
     */
    public int copy(int fd) throws IOException {
        int copy = (int) Libc.syscall(Libc.SYS_PIDFD_GETFD, pidfd, fd, 0);
        if (copy < 0) {
            int errno = Libc.errno();
            if (errno == Libc.EBADF || errno == Libc.ESRCH) {
                return -1;
            }
            throw new IOException("pidfd_getfd: " + Libc.strerror(errno));
        }
        return copy;
    }

    @Override
    public void close() {
        Libc.close(pidfd);
    }
}
