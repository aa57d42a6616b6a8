/*
 * sandbox-box-exec: runs commands inside a running box with the box's restrictions.
 *
 *   sandbox-box-exec INIT_PID UID GID CAP_MASK FILTER_FILE -- PROGRAM [ARG...]
 *   sandbox-box-exec --serve INIT_PID CAP_MASK FILTER_FILE
 *
 * First form: enters the namespaces of INIT_PID (mount, uts, ipc, net, pid, cgroup, then user), changes root to the
 * box's root, forks (the pid namespace applies to children), and in the child: sets the in-box uid/gid, drops every
 * capability not in CAP_MASK (hex) from the bounding, permitted, effective, inheritable and ambient sets (all of them
 * for a uid other than 0), sets no_new_privs, installs the seccomp filter read from FILTER_FILE (classic BPF, as the
 * server generates it; "-" for none) and execs PROGRAM. The parent waits and exits with the child's status.
 *
 * Second form, the box's command spawner (one per box, for the box's lifetime): creates a SOCK_SEQPACKET socket pair,
 * prints the number of the server's end on stdout (the server takes it with pidfd_getfd), enters the box as above
 * once, becomes the box's root (never host root), keeps only CAP_MASK, sets no_new_privs, not dumpable and the seccomp
 * filter, then serves start requests (see the wire format below): one fork + exec per command. It stays in the host's
 * pid namespace (setns on a pid namespace applies to children only), so no process of the box can see, signal or
 * trace it. It exits when the server closes its end.
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
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static void die(const char *what)
{
    fprintf(stderr, "sandbox-box-exec: %s: %s\n", what, strerror(errno));
    exit(126);
}

static unsigned char filter[65536];
static size_t filter_len;

static void load_filter(const char *file)
{
    if (strcmp(file, "-") == 0)
        return;
    int ffd = open(file, O_RDONLY | O_CLOEXEC);
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

/* Enters the namespaces of the box whose init is PID and changes root to the box's root. */
static void enter_box(const char *pid)
{
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
}

/* Drops every capability not in KEEP from the bounding and ambient sets (needs CAP_SETPCAP). */
static int drop_bounding(unsigned long long keep)
{
    for (int cap = 0; cap < 64; cap++) {
        if (!(keep & (1ULL << cap)) && prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 && errno != EINVAL)
            return -1;
    }
    return prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
}

/* Sets the effective and permitted sets to KEEP and the inheritable set to nothing. */
static int set_caps(unsigned long long keep)
{
    struct __user_cap_header_struct header = { _LINUX_CAPABILITY_VERSION_3, 0 };
    struct __user_cap_data_struct data[2];
    memset(data, 0, sizeof data);
    data[0].effective = data[0].permitted = (unsigned int)keep;
    data[1].effective = data[1].permitted = (unsigned int)(keep >> 32);
    return (int)syscall(SYS_capset, &header, data);
}

static int set_filter(void)
{
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
        return -1;
    struct sock_fprog program = { (unsigned short)(filter_len / sizeof(struct sock_filter)), (struct sock_filter *)filter };
    return filter_len > 0 ? (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &program) : 0;
}

static int exec_once(int argc, char **argv)
{
    if (argc < 8 || strcmp(argv[6], "--") != 0) {
        fprintf(stderr, "usage: sandbox-box-exec INIT_PID UID GID CAP_MASK FILTER_FILE -- PROGRAM [ARG...]\n");
        return 126;
    }

    uid_t uid = (uid_t)strtoul(argv[2], NULL, 10);
    gid_t gid = (gid_t)strtoul(argv[3], NULL, 10);
    unsigned long long keep = uid == 0 ? strtoull(argv[4], NULL, 16) : 0;
    load_filter(argv[5]);
    enter_box(argv[1]);

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
    if (drop_bounding(keep) != 0 || set_caps(keep) != 0)
        die("drop capabilities");
    if (set_filter() != 0)
        die("no_new_privs/seccomp");
    execvp(argv[7], argv + 7);
    die(argv[7]);
    return 126;
}

/*
 * Spawner wire format (SOCK_SEQPACKET, one message per event, little-endian as every host the server runs on; the
 * server's side is Commands/SpawnerWire.cs).
 * Server -> spawner, START: 8 x uint32 { 1, id, uid, gid, cgroup_fds, argc, envc, 0 }, then cwd, argv[0..argc) and
 * env[0..envc) as NUL-terminated strings filling the rest of the message exactly; SCM_RIGHTS: stdin, stdout, stderr,
 * then cgroup_fds open cgroup.procs files (opened by the server on the host; cgroup v1 checks the opener's
 * credentials, so the child joins by writing "0" before exec).
 * Spawner -> server, 4 x int32 { type, id, a, b } (+ text for FAILED): READY { 0, 0, 0, 0 } once; STARTED { 2, id,
 * host pid, box pid }; FAILED { 3, id, errno, 0 } + "what failed"; EXITED { 4, id, wait status, 0 } once reaped.
 */
enum { MSG_START = 1, MSG_READY = 0, MSG_STARTED = 2, MSG_FAILED = 3, MSG_EXITED = 4 };
enum { MAX_MESSAGE = 1 << 20, MAX_CGROUP_FDS = 16, MAX_ARGS = 1 << 16, MAX_COMMANDS = 4096 };

struct command {
    uint32_t id;
    pid_t pid;
    int report;        /* read end of the child's CLOEXEC report pipe; -1 once resolved */
    unsigned char got[64];
    size_t got_len;
};

static struct command commands[MAX_COMMANDS];
static int command_count;
static int channel = -1;
static unsigned long long box_caps;
static unsigned char message[MAX_MESSAGE];

static void reply(int32_t type, uint32_t id, int32_t a, int32_t b, const char *text)
{
    unsigned char out[16 + 256];
    int32_t head[4] = { type, (int32_t)id, a, b };
    memcpy(out, head, sizeof head);
    size_t len = sizeof head;
    if (text != NULL) {
        size_t n = strnlen(text, 255);
        memcpy(out + len, text, n);
        len += n;
    }
    while (send(channel, out, len, MSG_NOSIGNAL) < 0) {
        if (errno != EINTR)
            exit(0); /* the server is gone */
    }
}

/* Child side: report a failed step (errno + what) on the report pipe and exit. */
static void child_fail(int report, const char *what)
{
    int32_t err = errno;
    if (write(report, &err, sizeof err) < 0 || write(report, what, strlen(what)) < 0) {
        /* nothing more to do */
    }
    _exit(126);
}

/* Child side, after the start: a message on the command's own stderr, as a shell would print it. */
static void child_say(const char *what, const char *name, int err)
{
    char text[4096];
    int n = snprintf(text, sizeof text, "%s%s: %s\n", what, name, strerror(err));
    if (n > 0 && write(2, text, (size_t)(n < (int)sizeof text ? n : (int)sizeof text - 1)) < 0) {
        /* stderr is gone */
    }
}

static void run_child(int report, uid_t uid, gid_t gid, const int *fds, int cgroup_fds, const char *cwd, char **argv, char **env)
{
    sigset_t all;
    sigemptyset(&all);
    sigprocmask(SIG_SETMASK, &all, NULL);
    signal(SIGPIPE, SIG_DFL);
    signal(SIGCHLD, SIG_DFL);

    pid_t in_box = getpid();
    if (write(report, &in_box, sizeof in_box) != sizeof in_box)
        _exit(126);
    for (int i = 0; i < cgroup_fds; i++) {
        if (write(fds[3 + i], "0", 1) != 1)
            child_fail(report, "join the command's cgroup");
    }
    if (setsid() < 0)
        child_fail(report, "setsid");
    /* The spawner is the box's root with the box's capabilities; another user keeps none (the bounding set is dropped
     * while CAP_SETPCAP is still effective; leaving uid 0 clears the permitted and effective sets). */
    if (uid != 0 && drop_bounding(0) != 0)
        child_fail(report, "drop capabilities");
    if (setgroups(0, NULL) != 0 || setresgid(gid, gid, gid) != 0 || setresuid(uid, uid, uid) != 0)
        child_fail(report, "set uid/gid");
    if (uid != 0 && set_caps(0) != 0)
        child_fail(report, "drop capabilities");
    if (dup2(fds[0], 0) < 0 || dup2(fds[1], 1) < 0 || dup2(fds[2], 2) < 0)
        child_fail(report, "dup2");
    /* Everything else the spawner holds (the channel, other commands' pipes) is close-on-exec; make sure of it. */
    if (syscall(SYS_close_range, 3U, ~0U, 4U /* CLOSE_RANGE_CLOEXEC */) != 0)
        child_fail(report, "close_range");

    /* From here on the command has started: failures are the command's own, reported on its stderr (as a shell would). */
    if (chdir(cwd) != 0) {
        child_say("cd: ", cwd, errno);
        _exit(1);
    }
    environ = env;
    execvp(argv[0], argv);
    int err = errno;
    child_say("", argv[0], err);
    _exit(err == ENOENT ? 127 : 126);
}

static void start(ssize_t len, const int *fds, int nfds)
{
    uint32_t head[8];
    memcpy(head, message, sizeof head);
    uint32_t id = head[1], uid = head[2], gid = head[3], cgroup_fds = head[4], argc = head[5], envc = head[6];
    const char *problem = NULL;
    if (cgroup_fds > MAX_CGROUP_FDS || nfds != 3 + (int)cgroup_fds)
        problem = "bad descriptor count";
    else if (argc < 1 || argc > MAX_ARGS || envc > MAX_ARGS || uid > 65535 || gid > 65535)
        problem = "bad request";
    else if (command_count == MAX_COMMANDS)
        problem = "too many commands";

    /* The strings must fill the rest exactly: 1 + argc + envc NUL-terminated strings, nothing after the last. */
    static char *argv[MAX_ARGS + 1], *env[MAX_ARGS + 1];
    char *cwd = NULL;
    size_t at = sizeof head, count = 0, want = 1 + (size_t)argc + envc;
    if (problem == NULL) {
        while (at < (size_t)len && count < want) {
            char *s = (char *)message + at;
            char *end = memchr(s, 0, (size_t)len - at);
            if (end == NULL)
                break;
            if (count == 0)
                cwd = s;
            else if (count <= argc)
                argv[count - 1] = s;
            else
                env[count - 1 - argc] = s;
            count++;
            at = (size_t)(end - (char *)message) + 1;
        }
        if (count != want || at != (size_t)len)
            problem = "malformed strings";
    }
    if (problem != NULL) {
        errno = EINVAL;
        reply(MSG_FAILED, id, EINVAL, 0, problem);
        return;
    }
    argv[argc] = NULL;
    env[envc] = NULL;

    int report[2];
    if (pipe2(report, O_CLOEXEC) != 0) {
        reply(MSG_FAILED, id, errno, 0, "pipe");
        return;
    }
    pid_t child = fork();
    if (child < 0) {
        int err = errno;
        close(report[0]);
        close(report[1]);
        reply(MSG_FAILED, id, err, 0, "fork");
        return;
    }
    if (child == 0) {
        close(report[0]);
        close(channel);
        run_child(report[1], uid, gid, fds, (int)cgroup_fds, cwd, argv, env);
    }
    close(report[1]);
    struct command *c = &commands[command_count++];
    c->id = id;
    c->pid = child;
    c->report = report[0];
    c->got_len = 0;
}

/* Reads the child's report pipe; at its end (the child exec'd or died) tells the server STARTED or FAILED. */
static void resolve(struct command *c, int wait)
{
    for (;;) {
        struct pollfd p = { c->report, POLLIN, 0 };
        if (!wait && poll(&p, 1, 0) <= 0)
            return;
        ssize_t n = read(c->report, c->got + c->got_len, sizeof c->got - 1 - c->got_len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n > 0) {
            c->got_len += (size_t)n;
            if (c->got_len < sizeof c->got - 1)
                continue;
        }
        break;
    }
    close(c->report);
    c->report = -1;
    int32_t in_box = 0, err = 0;
    if (c->got_len >= sizeof in_box)
        memcpy(&in_box, c->got, sizeof in_box);
    if (c->got_len >= sizeof in_box + sizeof err) {
        memcpy(&err, c->got + sizeof in_box, sizeof err);
        c->got[c->got_len] = 0;
        reply(MSG_FAILED, c->id, err, 0, (const char *)c->got + sizeof in_box + sizeof err);
    } else if (c->got_len == sizeof in_box) {
        reply(MSG_STARTED, c->id, c->pid, in_box, NULL);
    } else {
        reply(MSG_FAILED, c->id, EIO, 0, "the command's process ended before it started");
    }
}

static void reap(void)
{
    for (;;) {
        int status;
        pid_t pid = waitpid(-1, &status, WNOHANG);
        if (pid <= 0)
            return;
        for (int i = 0; i < command_count; i++) {
            if (commands[i].pid != pid)
                continue;
            if (commands[i].report >= 0)
                resolve(&commands[i], 1);
            reply(MSG_EXITED, commands[i].id, status, 0, NULL);
            commands[i] = commands[--command_count];
            break;
        }
    }
}

static int serve(int argc, char **argv)
{
    if (argc != 5) {
        fprintf(stderr, "usage: sandbox-box-exec --serve INIT_PID CAP_MASK FILTER_FILE\n");
        return 126;
    }
    /* Dies with the server (the server starts it from a thread that lives as long as the server process). */
    if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) != 0)
        die("pdeathsig");
    box_caps = strtoull(argv[3], NULL, 16);
    load_filter(argv[4]);

    int pair[2];
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) != 0)
        die("socketpair");
    channel = pair[1];
    printf("%d\n", pair[0]);
    fflush(stdout);
    /* The server takes its end (pidfd_getfd) and says hello on it; then the only copy left here is closed. */
    int32_t hello[4];
    ssize_t got;
    while ((got = recv(channel, hello, sizeof hello, 0)) < 0 && errno == EINTR) {
    }
    if (got != (ssize_t)sizeof hello || hello[0] != MSG_READY)
        return 0;
    close(pair[0]);
    int null = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (null < 0 || dup2(null, 0) < 0 || dup2(null, 1) < 0)
        die("/dev/null");
    close(null);

    enter_box(argv[2]);
    /* The box's root (the root of its user namespace, a plain id on the host), with the box's capabilities only. */
    if (setgroups(0, NULL) != 0 || setresgid(0, 0, 0) != 0 || setresuid(0, 0, 0) != 0)
        die("become the box's root");
    if (drop_bounding(box_caps) != 0 || set_caps(box_caps) != 0)
        die("drop capabilities");
    if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0)
        die("dumpable");
    if (set_filter() != 0)
        die("no_new_privs/seccomp");

    signal(SIGPIPE, SIG_IGN);
    sigset_t chld;
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    if (sigprocmask(SIG_BLOCK, &chld, NULL) != 0)
        die("sigprocmask");
    int sfd = signalfd(-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK);
    if (sfd < 0)
        die("signalfd");
    reply(MSG_READY, 0, getpid(), 0, NULL);

    static struct pollfd polls[2 + MAX_COMMANDS];
    static struct command *polled[MAX_COMMANDS];
    for (;;) {
        int n = 0;
        polls[n++] = (struct pollfd){ channel, POLLIN, 0 };
        polls[n++] = (struct pollfd){ sfd, POLLIN, 0 };
        for (int i = 0; i < command_count; i++) {
            if (commands[i].report >= 0) {
                polled[n - 2] = &commands[i];
                polls[n++] = (struct pollfd){ commands[i].report, POLLIN, 0 };
            }
        }
        if (poll(polls, (nfds_t)n, -1) < 0) {
            if (errno == EINTR)
                continue;
            die("poll");
        }
        for (int i = 2; i < n; i++) {
            if (polls[i].revents != 0 && polled[i - 2]->report == polls[i].fd)
                resolve(polled[i - 2], 0);
        }
        if (polls[1].revents & POLLIN) {
            struct signalfd_siginfo info;
            while (read(sfd, &info, sizeof info) == (ssize_t)sizeof info) {
            }
            reap();
        }
        if (polls[0].revents & POLLIN) {
            union {
                char buf[CMSG_SPACE(sizeof(int) * (3 + MAX_CGROUP_FDS))];
                struct cmsghdr align;
            } control;
            struct iovec iov = { message, sizeof message };
            struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buf, .msg_controllen = sizeof control.buf };
            ssize_t len = recvmsg(channel, &msg, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
            if (len < 0 && (errno == EINTR || errno == EAGAIN))
                continue;
            if (len <= 0)
                return 0; /* the server closed its end: the box is going away */
            int fds[3 + MAX_CGROUP_FDS];
            int nfds = 0;
            for (struct cmsghdr *cm = CMSG_FIRSTHDR(&msg); cm != NULL; cm = CMSG_NXTHDR(&msg, cm)) {
                if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
                    continue;
                int count = (int)((cm->cmsg_len - CMSG_LEN(0)) / sizeof(int));
                for (int i = 0; i < count; i++) {
                    int fd;
                    memcpy(&fd, CMSG_DATA(cm) + i * sizeof(int), sizeof fd);
                    if (nfds < (int)(sizeof fds / sizeof fds[0]))
                        fds[nfds++] = fd;
                    else
                        close(fd);
                }
            }
            uint32_t type = 0, id = 0;
            if (len >= 8) {
                memcpy(&type, message, sizeof type);
                memcpy(&id, message + 4, sizeof id);
            }
            if ((msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) != 0 || len < 32 || type != MSG_START)
                reply(MSG_FAILED, id, EINVAL, 0, (msg.msg_flags & MSG_TRUNC) != 0 ? "request too large" : "bad request");
            else
                start(len, fds, nfds);
            for (int i = 0; i < nfds; i++)
                close(fds[i]);
        }
    }
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "--serve") == 0)
        return serve(argc, argv);
    return exec_once(argc, argv);
}
