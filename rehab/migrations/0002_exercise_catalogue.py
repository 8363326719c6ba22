from django.db import migrations


def add_catalogue(apps, schema_editor):
    from rehab.catalogue import PAIS_EXERCISES

    Exercise = apps.get_model("rehab", "Exercise")
    for item in PAIS_EXERCISES:
        Exercise.objects.update_or_create(name=item["name"], defaults=dict(item))


class Migration(migrations.Migration):
    dependencies = [("rehab", "0001_initial")]

    operations = [migrations.RunPython(add_catalogue, migrations.RunPython.noop)]
