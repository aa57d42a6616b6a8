/*
 * sandbox-box-exec: runs a command inside a running box with the box's restrictions.
 *
 *   sandbox-box-exec INIT_PID UID GID CAP_MASK FILTER_FILE -- PROGRAM [ARG...]
 *
 * Enters the namespaces of INIT_PID (mount, uts, ipc, net, pid, cgroup, then user), changes root to the box's root,
 * forks (the pid namespace applies to children), and in the child: sets the in-box uid/gid, drops every capability
 * not in CAP_MASK (hex) from the bounding, permitted, effective, inheritable and ambient sets (all of them for a
 * uid other than 0), sets no_new_privs, installs the seccomp filter read from FILTER_FILE (classic BPF, as the server
 * generates it; "-" for none) and execs PROGRAM. The parent waits and exits with the child's status, like nsenter(1).
 *
 * Why a helper: entering a user namespace gives a process every capability in it again (setns resets the bounding
 * set), so the restrictions must be applied after setns and before exec, in one single-threaded process; .NET cannot
 * run code between fork and exec.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static void die(const char *what)
{
    fprintf(stderr, "sandbox-box-exec: %s: %s\n", what, strerror(errno));
    exit(126);
}

static int open_ns(const char *pid, const char *name, int *same)
{
    char path[64];
    struct stat theirs, ours;
    snprintf(path, sizeof path, "/proc/%s/ns/%s", pid, name);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        die(path);
    snprintf(path, sizeof path, "/proc/self/ns/%s", name);
    *same = fstat(fd, &theirs) == 0 && stat(path, &ours) == 0 && theirs.st_ino == ours.st_ino && theirs.st_dev == ours.st_dev;
    return fd;
}

int main(int argc, char **argv)
{
    if (argc < 8 || strcmp(argv[6], "--") != 0) {
        fprintf(stderr, "usage: sandbox-box-exec INIT_PID UID GID CAP_MASK FILTER_FILE -- PROGRAM [ARG...]\n");
        return 126;
    }

    const char *pid = argv[1];
    uid_t uid = (uid_t)strtoul(argv[2], NULL, 10);
    gid_t gid = (gid_t)strtoul(argv[3], NULL, 10);
    unsigned long long keep = uid == 0 ? strtoull(argv[4], NULL, 16) : 0;

    static unsigned char filter[65536];
    size_t filter_len = 0;
    if (strcmp(argv[5], "-") != 0) {
        int ffd = open(argv[5], O_RDONLY | O_CLOEXEC);
        if (ffd < 0)
            die("open seccomp filter");
        for (ssize_t n; (n = read(ffd, filter + filter_len, sizeof filter - filter_len)) > 0;)
            filter_len += (size_t)n;
        close(ffd);
        if (filter_len == 0 || filter_len % sizeof(struct sock_filter) != 0 || filter_len == sizeof filter) {
            errno = EINVAL;
            die("seccomp filter");
        }
    }

    static const char *const names[] = { "mnt", "uts", "ipc", "net", "pid", "cgroup", "user" };
    int fds[7], same[7];
    for (int i = 0; i < 7; i++)
        fds[i] = open_ns(pid, names[i], &same[i]);
    char root_path[64];
    snprintf(root_path, sizeof root_path, "/proc/%s/root", pid);
    int root = open(root_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (root < 0)
        die(root_path);

    /* As host root every namespace can be entered; the user namespace last (it would take host privileges away). */
    for (int i = 0; i < 7; i++) {
        if (!same[i] && setns(fds[i], 0) != 0)
            die(names[i]);
        close(fds[i]);
    }
    if (fchdir(root) != 0 || chroot(".") != 0 || chdir("/") != 0)
        die("chroot into the box");
    close(root);

    pid_t child = fork();
    if (child < 0)
        die("fork");
    if (child > 0) {
        int status;
        for (;;) {
            pid_t r = waitpid(child, &status, WUNTRACED);
            if (r < 0 && errno == EINTR)
                continue;
            if (r == child && WIFSTOPPED(status)) {
                kill(getpid(), SIGSTOP);
                kill(child, SIGCONT);
                continue;
            }
            break;
        }
        if (WIFEXITED(status))
            return WEXITSTATUS(status);
        if (WIFSIGNALED(status)) {
            signal(WTERMSIG(status), SIG_DFL);
            kill(getpid(), WTERMSIG(status));
        }
        return 125;
    }

    if (setgroups(0, NULL) != 0 || setresgid(gid, gid, gid) != 0 || setresuid(uid, uid, uid) != 0)
        die("set uid/gid");

    for (int cap = 0; cap < 64; cap++) {
        if (!(keep & (1ULL << cap)) && prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 && errno != EINVAL)
            die("drop bounding capability");
    }
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0)
        die("clear ambient capabilities");
    struct __user_cap_header_struct header = { _LINUX_CAPABILITY_VERSION_3, 0 };
    struct __user_cap_data_struct data[2];
    memset(data, 0, sizeof data);
    data[0].effective = data[0].permitted = (unsigned int)keep;
    data[1].effective = data[1].permitted = (unsigned int)(keep >> 32);
    if (syscall(SYS_capset, &header, data) != 0)
        die("capset");
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
        die("no_new_privs");
    struct sock_fprog program = { (unsigned short)(filter_len / sizeof(struct sock_filter)), (struct sock_filter *)filter };
    if (filter_len > 0 && syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &program) != 0)
        die("seccomp");

    execvp(argv[7], argv + 7);
    die(argv[7]);
}
