/* evdump: prints what Linux's input devices report, the way a desktop's
 * input stack reads them: every /dev/input/event* through evdev. Each key
 * or button becomes "evdev key CODE VALUE" and each relative movement
 * "evdev rel CODE VALUE" (codes and values in decimal, as in
 * <linux/input-event-codes.h>; value 1 press, 0 release, 2 autorepeat).
 * First prints "evdump: N devices" and one "evdump: device NAME" line each,
 * so a test knows when to start typing; ends when Q is pressed. Built
 * static for the initramfs. */
#include <dirent.h>
#include <fcntl.h>
#include <linux/input.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define MAX_DEVICES 32

int main(void)
{
	struct pollfd fds[MAX_DEVICES];
	int count = 0;
	DIR *dir = opendir("/dev/input");
	if (!dir) {
		perror("evdump: /dev/input");
		return 1;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	struct dirent *entry;
	while ((entry = readdir(dir)) && count < MAX_DEVICES) {
		if (strncmp(entry->d_name, "event", 5) != 0)
			continue;
		char path[300], name[128] = "?";
		snprintf(path, sizeof(path), "/dev/input/%s", entry->d_name);
		int fd = open(path, O_RDONLY);
		if (fd < 0) {
			perror(path);
			continue;
		}
		ioctl(fd, EVIOCGNAME(sizeof(name)), name);
		name[sizeof(name) - 1] = 0;
		printf("evdump: device %s %s\n", entry->d_name, name);
		fds[count++] = (struct pollfd){ .fd = fd, .events = POLLIN };
	}
	closedir(dir);
	printf("evdump: %d devices\n", count);
	if (count == 0)
		return 1;

	for (;;) {
		if (poll(fds, count, -1) < 0) {
			perror("evdump: poll");
			return 1;
		}
		for (int i = 0; i < count; i++) {
			if (!(fds[i].revents & POLLIN))
				continue;
			struct input_event events[64];
			ssize_t n = read(fds[i].fd, events, sizeof(events));
			if (n < 0) {
				perror("evdump: read");
				return 1;
			}
			for (size_t j = 0; j < (size_t)n / sizeof(events[0]); j++) {
				const struct input_event *ev = &events[j];
				if (ev->type == EV_KEY)
					printf("evdev key %u %d\n", ev->code, ev->value);
				else if (ev->type == EV_REL)
					printf("evdev rel %u %d\n", ev->code, ev->value);
				if (ev->type == EV_KEY && ev->code == KEY_Q && ev->value == 1)
					return 0;
			}
		}
	}
}
