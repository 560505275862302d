/*
 * messages: the words staff see, in one catalogue (docs/messages.md is
 * the same catalogue for review). Plain, without blame, each naming what
 * to do. The checks' own summaries and remedies (one line each, with the
 * facts of the moment) come with every finding; these are the titles,
 * the explanations and the step-by-step fixes around them.
 */
#ifndef ENDPOINTD_MESSAGES_H
#define ENDPOINTD_MESSAGES_H

#include <stddef.h>

struct check_words {
	const char *id;		/* "encryption" */
	const char *name;	/* "Disk encryption" */
	const char *fail_title;	/* a notification's title when it fails */
	const char *warn_title;
	const char *resolved_title;
	const char *looks_at;	/* what the check looks at (explain) */
	/* How to put it right, step by step, per desktop. */
	const char *gnome, *kde, *xfce;
};

/* The words of check id, or NULL for a check this build does not know. */
const struct check_words *messages_check(const char *id);
/* Every check's words, NULL-terminated. */
const struct check_words *const *messages_checks(void);

/* The closest known check id to a misspelt one, or NULL. */
const char *messages_suggest(const char *id);

#endif
