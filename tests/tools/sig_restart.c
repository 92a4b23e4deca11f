// SPDX-License-Identifier: MIT
/*
 * For test_run_preload.sh: does a blocking recv on a UDP socket restart
 * after a signal handler, as the kernel's does under SA_RESTART?
 *
 *   sig_restart PORT restart|norestart
 *
 * Binds the wildcard UDP PORT, arms SIGALRM for 200 ms with a handler
 * installed with (restart) or without (norestart) SA_RESTART, and blocks
 * in recv. Prints "datagram N bytes" when recv returned one, "EINTR" when
 * it failed so, and whether the handler ran; exit 0 when the outcome is
 * the kernel's: restart -> a datagram after the handler, norestart ->
 * EINTR. The test sends the datagram after the alarm.
 */
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>

static volatile sig_atomic_t fired;

static void on_alarm(int sig)
{
	(void)sig;
	fired = 1;
}

int main(int argc, char **argv)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	struct itimerval it = { .it_value = { 0, 200000 } };
	struct sigaction sa = { .sa_handler = on_alarm };
	char buf[2048];
	bool restart;
	ssize_t n;
	int fd;

	if (argc != 3 || (strcmp(argv[2], "restart") && strcmp(argv[2], "norestart"))) {
		fprintf(stderr, "usage: sig_restart PORT restart|norestart\n");
		return 2;
	}
	restart = !strcmp(argv[2], "restart");
	a.sin_port = htons((uint16_t)atoi(argv[1]));
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		perror("sig_restart: socket/bind");
		return 2;
	}
	sa.sa_flags = restart ? SA_RESTART : 0;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGALRM, &sa, NULL) < 0 || setitimer(ITIMER_REAL, &it, NULL) < 0) {
		perror("sig_restart: sigaction/setitimer");
		return 2;
	}
	printf("waiting\n");
	fflush(stdout);
	n = recv(fd, buf, sizeof(buf), 0);
	if (n >= 0)
		printf("datagram %zd bytes, handler %s\n", n, fired ? "ran" : "did not run");
	else
		printf("%s, handler %s\n", errno == EINTR ? "EINTR" : strerror(errno),
		       fired ? "ran" : "did not run");
	if (!fired)
		return 1;
	return restart ? n < 0 : !(n < 0 && errno == EINTR);
}
