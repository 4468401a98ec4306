/* SPDX-License-Identifier: MIT */
/* nosym -- a shared object without us_plugin_descs; loading must fail. */
int nosym_something_else(void);

int
nosym_something_else(void)
{
	return 42;
}
