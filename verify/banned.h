/* banned.h: after git's banned.h, functions that overflow or hide state become compile errors.
   Included by verify.h after the system headers that declare them. */
#ifndef PCV_BANNED_H
#define PCV_BANNED_H

#define BANNED(func) sorry_##func##_is_banned_use_snprintf_or_memcpy

#undef strcpy
#define strcpy(x, y) BANNED (strcpy)
#undef strcat
#define strcat(x, y) BANNED (strcat)
#undef strncpy
#define strncpy(x, y, n) BANNED (strncpy)
#undef sprintf
#define sprintf(...) BANNED (sprintf)
#undef vsprintf
#define vsprintf(...) BANNED (vsprintf)
#undef strtok
#define strtok(x, y) BANNED (strtok)
#undef gets
#define gets(x) BANNED (gets)

#endif
