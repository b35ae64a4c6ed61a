/* user-socket: sockets over loopback and socketpair: bind/listen/connect/
 * accept, getsockname, send/recv, socket options, select/poll, and
 * sendmsg/recvmsg passing a file descriptor (SCM_RIGHTS). */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static int failures;
#define CHECK(c)                                                     \
    do {                                                             \
        if (!(c)) {                                                  \
            printf("FAIL line %d: %s (errno %d)\n", __LINE__, #c, errno); \
            failures++;                                              \
        }                                                            \
    } while (0)

int main(void)
{
    int ls = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    CHECK(ls >= 0);
    int one = 1, val = 0;
    socklen_t vl = sizeof val;
    CHECK(setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) == 0);
    CHECK(getsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &val, &vl) == 0 && val == 1 && vl == 4);
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    CHECK(bind(ls, (struct sockaddr *)&sa, sizeof sa) == 0);
    CHECK(listen(ls, 4) == 0);
    socklen_t sl = sizeof sa;
    CHECK(getsockname(ls, (struct sockaddr *)&sa, &sl) == 0 && sl == sizeof sa && sa.sin_port);

    int c = socket(AF_INET, SOCK_STREAM, 0);
    CHECK(connect(c, (struct sockaddr *)&sa, sizeof sa) == 0);
    struct sockaddr_in peer;
    socklen_t pl = sizeof peer;
    int s = accept(ls, (struct sockaddr *)&peer, &pl);
    CHECK(s >= 0 && pl == sizeof peer && peer.sin_addr.s_addr == htonl(INADDR_LOOPBACK));
    CHECK(setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) == 0);
    CHECK(send(c, "ping", 4, 0) == 4);
    fd_set rf;
    FD_ZERO(&rf);
    FD_SET(s, &rf);
    struct timeval tv = { 2, 0 };
    CHECK(select(s + 1, &rf, NULL, NULL, &tv) == 1 && FD_ISSET(s, &rf));
    char buf[16] = "";
    CHECK(recv(s, buf, sizeof buf, 0) == 4 && memcmp(buf, "ping", 4) == 0);
    CHECK(sendto(s, "pong", 4, 0, NULL, 0) == 4);
    struct pollfd pf = { .fd = c, .events = POLLIN };
    CHECK(poll(&pf, 1, 2000) == 1 && (pf.revents & POLLIN));
    CHECK(recvfrom(c, buf, sizeof buf, 0, NULL, NULL) == 4 && memcmp(buf, "pong", 4) == 0);
    CHECK(getpeername(c, (struct sockaddr *)&peer, &pl) == 0 && peer.sin_port == sa.sin_port);
    CHECK(shutdown(c, SHUT_WR) == 0);
    CHECK(recv(s, buf, sizeof buf, 0) == 0);
    close(c);
    close(s);
    close(ls);

    /* socketpair + SCM_RIGHTS */
    int sv[2];
    CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
    int pfd[2];
    CHECK(pipe(pfd) == 0);
    char cbuf[CMSG_SPACE(sizeof(int))];
    memset(cbuf, 0, sizeof cbuf);
    struct iovec iov = { "fd", 2 };
    struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
                        .msg_controllen = sizeof cbuf };
    struct cmsghdr *cm = CMSG_FIRSTHDR(&m);
    cm->cmsg_level = SOL_SOCKET;
    cm->cmsg_type = SCM_RIGHTS;
    cm->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(cm), &pfd[1], sizeof(int));
    CHECK(sendmsg(sv[0], &m, 0) == 2);
    char rb[4] = "";
    char rc[CMSG_SPACE(sizeof(int))];
    struct iovec riov = { rb, sizeof rb };
    struct msghdr rm = { .msg_iov = &riov, .msg_iovlen = 1, .msg_control = rc,
                         .msg_controllen = sizeof rc };
    CHECK(recvmsg(sv[1], &rm, 0) == 2 && memcmp(rb, "fd", 2) == 0);
    struct cmsghdr *rcm = CMSG_FIRSTHDR(&rm);
    CHECK(rcm && rcm->cmsg_type == SCM_RIGHTS);
    int got = -1;
    if (rcm)
        memcpy(&got, CMSG_DATA(rcm), sizeof got);
    CHECK(got >= 0 && got != pfd[1]);
    CHECK(write(got, "via fd", 6) == 6);
    CHECK(read(pfd[0], buf, 6) == 6 && memcmp(buf, "via fd", 6) == 0);
    printf("socket: %s\n", failures ? "FAILED" : "ok");
    return failures != 0;
}
