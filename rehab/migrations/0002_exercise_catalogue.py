from django.db import migrations


def add_catalogue(apps, schema_editor):
    from rehab.catalogue import PAIS_EXERCISES

    Exercise = apps.get_model("rehab", "Exercise")
    # Only the fields the model has at this point: the instructions came later (0017).
    fields = ("category", "default_sets", "default_reps", "instructions")
    for item in PAIS_EXERCISES:
        Exercise.objects.update_or_create(
            name=item["name"], defaults={field: item[field] for field in fields}
        )


class Migration(migrations.Migration):
    dependencies = [("rehab", "0001_initial")]

    operations = [migrations.RunPython(add_catalogue, migrations.RunPython.noop)]
