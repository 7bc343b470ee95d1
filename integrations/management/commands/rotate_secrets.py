"""Re-encrypt every stored secret under the newest FIELD_ENCRYPTION_KEYS key."""

from django.core.management.base import BaseCommand, CommandError

from integrations.crypto import SecretDecryptError
from integrations.services import integrations_rotate_secrets


class Command(BaseCommand):
    help = "Re-encrypt all integration secrets with the first (newest) key of FIELD_ENCRYPTION_KEYS."

    def handle(self, *args, **options):
        try:
            count = integrations_rotate_secrets()
        except SecretDecryptError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(self.style.SUCCESS(f"Re-encrypted the secrets of {count} integration(s)."))
