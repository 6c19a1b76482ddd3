package jllm.train;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

import javax.imageio.ImageIO;

/**
 * A PNG plot of loss against step (java.awt in headless mode; no display needed): the raw losses in light blue, an
 * exponential moving average (weight 0.9, bias-corrected as Adam's moments are) in dark blue, labelled axes.
 * Written to a temporary file and moved into place.
 */
public final class LossCurve {
    private LossCurve() {}

    static final int W = 800, H = 500, LEFT = 70, RIGHT = 20, TOP = 30, BOTTOM = 50;

    public static void write(Path png, List<double[]> points, String title) throws IOException {
        System.setProperty("java.awt.headless", "true");
        BufferedImage img = new BufferedImage(W, H, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        try {
            g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
            g.setColor(Color.WHITE);
            g.fillRect(0, 0, W, H);
            g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
            double minX = Double.MAX_VALUE, maxX = -Double.MAX_VALUE, minY = Double.MAX_VALUE, maxY = -Double.MAX_VALUE;
            for (double[] p : points) {
                minX = Math.min(minX, p[0]);
                maxX = Math.max(maxX, p[0]);
                minY = Math.min(minY, p[1]);
                maxY = Math.max(maxY, p[1]);
            }
            if (points.isEmpty()) {
                minX = minY = 0;
                maxX = maxY = 1;
            }
            if (maxX == minX) maxX = minX + 1;
            if (maxY == minY) maxY = minY + 1;
            double padY = (maxY - minY) * 0.05;
            minY -= padY;
            maxY += padY;
            int pw = W - LEFT - RIGHT, ph = H - TOP - BOTTOM;
            g.setColor(Color.BLACK);
            g.drawString(title, LEFT, TOP - 10);
            g.drawString("step", LEFT + pw / 2 - 12, H - 12);
            g.drawString("loss", 10, TOP + ph / 2);
            for (int i = 0; i <= 5; i++) {
                double y = minY + (maxY - minY) * i / 5, x = minX + (maxX - minX) * i / 5;
                int py = TOP + ph - (int) Math.round(ph * i / 5.0), px = LEFT + (int) Math.round(pw * i / 5.0);
                g.drawString(String.format(Locale.ROOT, "%.3f", y), 20, py + 4);
                g.drawString(String.format(Locale.ROOT, "%.0f", x), px - 8, TOP + ph + 18);
                g.setColor(new Color(230, 230, 230));
                g.drawLine(LEFT + 1, py, LEFT + pw - 1, py);
                g.setColor(Color.BLACK);
            }
            g.drawRect(LEFT, TOP, pw, ph);
            int[] xs = new int[points.size()], ys = new int[points.size()], es = new int[points.size()];
            double ema = 0, weight = 0;
            for (int i = 0; i < points.size(); i++) {
                double[] p = points.get(i);
                ema = 0.9 * ema + 0.1 * p[1];
                weight = 0.9 * weight + 0.1;
                xs[i] = LEFT + (int) Math.round((p[0] - minX) / (maxX - minX) * pw);
                ys[i] = TOP + ph - (int) Math.round((p[1] - minY) / (maxY - minY) * ph);
                es[i] = TOP + ph - (int) Math.round((ema / weight - minY) / (maxY - minY) * ph);
            }
            g.setStroke(new BasicStroke(1f));
            g.setColor(new Color(150, 190, 240));
            g.drawPolyline(xs, ys, xs.length);
            g.setStroke(new BasicStroke(2f));
            g.setColor(new Color(20, 60, 160));
            g.drawPolyline(xs, es, xs.length);
        } finally {
            g.dispose();
        }
        Path dir = png.toAbsolutePath().getParent();
        Path tmp = Files.createTempFile(dir, "." + png.getFileName(), ".tmp");
        try {
            if (!ImageIO.write(img, "png", tmp.toFile())) throw new IOException("no PNG writer available");
            Files.move(tmp, png, java.nio.file.StandardCopyOption.REPLACE_EXISTING, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }
}
