/*
 * pqparse asks libpq which password and sslpassword a connection string
 * holds, for pgmask's tests (TestTextAgainstLibpq compiles and runs it).
 *
 * Input: connection strings, each ended by a NUL byte (they may hold new
 * lines). Output: one line per string, "ok <password> <sslpassword>" with
 * each value hex-encoded, or "-" when libpq set none; "err" when libpq
 * refuses the string.
 */
#include <stdio.h>
#include <string.h>
#include <libpq-fe.h>

static void hex(const char *s)
{
	if (s == NULL)
	{
		fputs(" -", stdout);
		return;
	}
	putchar(' ');
	if (*s == '\0')
		putchar('=');			/* set, but empty */
	for (; *s; s++)
		printf("%02x", (unsigned char) *s);
}

int main(void)
{
	static char buf[1 << 16];
	size_t len = 0;
	int c;

	while ((c = getchar()) != EOF)
	{
		if (c != '\0')
		{
			if (len + 1 >= sizeof buf)
			{
				fputs("pqparse: connection string too long\n", stderr);
				return 2;
			}
			buf[len++] = (char) c;
			continue;
		}
		buf[len] = '\0';
		len = 0;

		char *err = NULL;
		PQconninfoOption *opts = PQconninfoParse(buf, &err);
		if (opts == NULL)
		{
			puts("err");
			PQfreemem(err);
			continue;
		}
		const char *pw = NULL, *sslpw = NULL;
		for (PQconninfoOption *o = opts; o->keyword != NULL; o++)
		{
			if (strcmp(o->keyword, "password") == 0)
				pw = o->val;
			else if (strcmp(o->keyword, "sslpassword") == 0)
				sslpw = o->val;
		}
		fputs("ok", stdout);
		hex(pw);
		hex(sslpw);
		putchar('\n');
		PQconninfoFree(opts);
	}
	return fflush(stdout) == 0 ? 0 : 1;
}
