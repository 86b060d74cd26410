"""Account opening (accounts app): applicant rules, provisioning attempts, mails, stuck threshold."""
from config.env import env

# Minimum age of an applicant on the day of the application (Japan: adult at 18 since 2022).
ACCOUNTS_MINIMUM_AGE = env.int("ACCOUNTS_MINIMUM_AGE", default=18)
# Attempts of the create_account outbox row before it is dead-lettered (R15: 10 for core legs).
ACCOUNTS_CREATE_ACCOUNT_MAX_ATTEMPTS = env.int("ACCOUNTS_CREATE_ACCOUNT_MAX_ATTEMPTS", default=10)
# An application CONFIRMED for longer than this without COMPLETED is listed as stuck (§5.10).
ACCOUNTS_STUCK_CONFIRMED_MINUTES = env.int("ACCOUNTS_STUCK_CONFIRMED_MINUTES", default=10)
# Send a rejection notice to the applicant. The spec leaves it optional (R37); on by default so a rejected
# applicant is not left waiting.
ACCOUNTS_REJECTION_MAIL = env.bool("ACCOUNTS_REJECTION_MAIL", default=True)
# Shown in the mails: the bank's name and where online banking (first login) lives.
ACCOUNTS_BANK_NAME = env.str("ACCOUNTS_BANK_NAME", default="サンプル銀行")
# Empty: SITE_URL + the login page's path (see accounts.outbox_handlers.online_banking_url).
ACCOUNTS_ONLINE_BANKING_URL = env.str("ACCOUNTS_ONLINE_BANKING_URL", default="")
