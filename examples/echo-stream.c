/* SPDX-License-Identifier: MIT */
/*
 * echo-stream -- the classic first STREAMS program: open the echo driver,
 * push a module, write, read the echo back, and list the stream's modules
 * with I_LIST the way strconf(1) does.  Runs in virtual time, no privileges.
 */
#include <ustreams/ustreams.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>

static int
die(const char *what)
{
	fprintf(stderr, "echo-stream: %s: %s\n", what, strerror(errno));
	return 1;
}

int
main(void)
{
	UsWorld *world = us_world_new(US_CLOCK_VIRTUAL, 1);
	UsStack *stack = us_stack_new(world, "example");
	int fd = us_open(stack, "echo", O_RDWR);
	if (fd < 0)
		return die("open echo");
	if (us_ioctl(fd, I_PUSH, "pass") < 0 || us_ioctl(fd, I_PUSH, "pass") < 0)
		return die("I_PUSH pass");

	const char msg[] = "hello, STREAMS";
	if (us_write(fd, msg, sizeof msg - 1) != (ssize_t)(sizeof msg - 1))
		return die("write");
	char buf[64] = { 0 };
	ssize_t n = us_read(fd, buf, sizeof buf - 1);
	if (n < 0)
		return die("read");
	printf("wrote \"%s\", read back \"%.*s\" (%zd bytes)\n", msg, (int)n, buf, n);

	/* strconf: the modules from the top, then the driver. */
	int count = us_ioctl(fd, I_LIST, NULL);
	struct str_mlist names[16];
	struct str_list list = { .sl_nmods = count, .sl_modlist = names };
	if (count < 0 || us_ioctl(fd, I_LIST, &list) < 0)
		return die("I_LIST");
	printf("stream (%d entries):", list.sl_nmods);
	for (int i = 0; i < list.sl_nmods; i++)
		printf(" %s", names[i].l_name);
	printf("\n");

	us_close(fd);
	us_world_free(world);
	return n == (ssize_t)(sizeof msg - 1) && memcmp(buf, msg, (size_t)n) == 0 ? 0 : 1;
}
