/* Thumbnails read off the main thread; see thumbnail.h. */
#include "thumbnail.h"

struct thumbnail_load {
	thumbnail_loaded done;
	void *data;
	GDestroyNotify free_data;
};

static void read_scaled(GTask *task, gpointer source, gpointer path, GCancellable *cancellable)
{
	(void)source, (void)cancellable;
	GError *error = NULL;
	GdkPixbuf *picture = gdk_pixbuf_new_from_file_at_scale(path, THUMBNAIL_WIDTH, THUMBNAIL_HEIGHT, TRUE, &error);
	if (picture)
		g_task_return_pointer(task, picture, g_object_unref);
	else
		g_task_return_error(task, error);
}

static void on_read(GObject *source, GAsyncResult *result, gpointer data)
{
	(void)source;
	struct thumbnail_load *load = data;
	g_autoptr(GError) error = NULL;
	g_autoptr(GdkPixbuf) picture = g_task_propagate_pointer(G_TASK(result), &error);
	if (!g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
		load->done(picture, load->data);
	if (load->free_data)
		load->free_data(load->data);
	g_free(load);
}

void thumbnail_load(const char *path, GCancellable *cancellable, thumbnail_loaded done, void *data,
		    GDestroyNotify free_data)
{
	struct thumbnail_load *load = g_new(struct thumbnail_load, 1);
	*load = (struct thumbnail_load){ done, data, free_data };
	g_autoptr(GTask) task = g_task_new(NULL, cancellable, on_read, load);
	g_task_set_task_data(task, g_strdup(path), g_free);
	g_task_set_return_on_cancel(task, TRUE);
	g_task_run_in_thread(task, read_scaled);
}
